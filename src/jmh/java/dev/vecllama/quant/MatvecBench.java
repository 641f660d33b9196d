package dev.vecllama.quant;

import dev.vecllama.activation.Activation;
import dev.vecllama.gguf.GGMLType;
import dev.vecllama.kernel.KernelWarmup;
import dev.vecllama.kernel.WeightMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
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
 * One single-threaded matvec over a whole random matrix of real model shapes (cols × rows: a
 * 13M-model FFN, its output projection (one 256-wide row per token of a 32000 vocabulary), TinyLlama's FFN, a 7B-size square), per weight format. Besides ops/s, JMH prints two
 * rate counters: {@code gbPerS}, the weight bytes streamed per second (bytes of the matrix × ops/s),
 * and {@code gflopPerS} (2·rows·cols × ops/s). The big shapes do not fit in cache, so their gbPerS is
 * the number to hold against memory bandwidth (~25 GB/s on one thread here).
 *
 * <pre>mvn -q -B -Pjmh verify -Djmh.args="MatvecBench -p type=Q8_0"</pre>
 * Add {@code -jvmArgsAppend -Dvecllama.vector.bits=256} to run the kernels at another width.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MatvecBench {
    @Param({"F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    public String type;

    @Param({"256x768", "256x32000", "2048x5632", "4096x4096"})
    public String shape;

    private Arena arena;
    private WeightFormat format;
    private MemorySegment w;
    private long rowBytes;
    private int rows, cols;
    private Activation a;
    private float[] out;

    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Rates {
        public double gbPerS;
        public double gflopPerS;

        @Setup(Level.Iteration)
        public void reset() {
            gbPerS = 0;
            gflopPerS = 0;
        }
    }

    @Setup
    public void setup() {
        String[] cr = shape.split("x");
        cols = Integer.parseInt(cr[0]);
        rows = Integer.parseInt(cr[1]);
        GGMLType t = GGMLType.valueOf(type);
        format = WeightFormat.of(t);
        rowBytes = t.bytesFor(cols);
        arena = Arena.ofShared();
        Random rnd = new Random(42);
        w = RandomWeights.matrix(t, rows, cols, rnd, arena);
        a = RandomWeights.activation(cols, format.activationKind(), rnd);
        out = new float[rows];
        // Compiled as run.sh compiles it: with its Tier4BackEdgeThreshold, a kernel called once per
        // matvec would never leave the interpreter and C1 within JMH's warm-up.
        KernelWarmup.warmNow(new WeightMatrix("bench", rows, cols, format, w));
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] matvec(Rates r) {
        format.matvec(w, rowBytes, cols, a, out, 0, rows);
        r.gbPerS += rowBytes * rows * 1e-9;
        r.gflopPerS += 2.0 * rows * cols * 1e-9;
        return out;
    }
}
