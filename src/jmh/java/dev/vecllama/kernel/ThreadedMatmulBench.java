package dev.vecllama.kernel;

import dev.vecllama.activation.Activation;
import dev.vecllama.gguf.GGMLType;
import dev.vecllama.quant.MatvecBench;
import dev.vecllama.quant.RandomWeights;
import dev.vecllama.quant.WeightFormat;
import java.lang.foreign.Arena;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The forward pass's own matrix product path ({@link MatMulJob} on the persistent {@link ThreadPool})
 * at 1 and 2 threads, for decode (1 token) and a prompt tile (32 tokens: two groups of 16 for the
 * formats' lane kernels at 512 bits, Q4_K's 4-row gemm order), on TinyLlama's FFN shape.
 * Counters (MatvecBench.Rates): {@code gbPerS} of weights streamed, {@code gflopPerS}.
 *
 * <pre>mvn -q -B -Pjmh verify -Djmh.args="ThreadedMatmulBench -p type=Q4_K"</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ThreadedMatmulBench {
    @Param({"F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q6_K", "TQ2_0", "TQ1_0"})
    public String type;

    @Param({"1", "2"})
    public int threads;

    @Param({"1", "32"})
    public int tokens;

    private static final int COLS = 2048, ROWS = 5632;

    private Arena arena;
    private ThreadPool pool;
    private MatMulJob job;
    private WeightMatrix matrix;
    private Activation[] x;
    private float[][] out;

    @Setup
    public void setup() {
        GGMLType t = GGMLType.valueOf(type);
        WeightFormat format = WeightFormat.of(t);
        arena = Arena.ofShared();
        Random rnd = new Random(42);
        matrix = new WeightMatrix("bench", ROWS, COLS, format, RandomWeights.matrix(t, ROWS, COLS, rnd, arena));
        KernelWarmup.warmNow(matrix);
        x = new Activation[tokens];
        for (int i = 0; i < tokens; i++) {
            x[i] = new Activation(COLS);
            for (int j = 0; j < COLS; j++) x[i].f[j] = (float) rnd.nextGaussian();
        }
        out = new float[tokens][ROWS];
        pool = new ThreadPool(threads);
        job = new MatMulJob(pool);
    }

    @TearDown
    public void tearDown() {
        pool.close();
        arena.close();
    }

    @Benchmark
    public float[][] matmul(MatvecBench.Rates r) {
        job.run(x, tokens, matrix, out);
        r.gbPerS += matrix.byteSize() * 1e-9;
        r.gflopPerS += 2.0 * ROWS * COLS * tokens * 1e-9;
        return out;
    }
}
