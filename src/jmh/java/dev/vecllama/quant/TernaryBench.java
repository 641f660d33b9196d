package dev.vecllama.quant;

import dev.vecllama.activation.Activation;
import dev.vecllama.activation.ActivationKind;
import dev.vecllama.kernel.KernelWarmup;
import dev.vecllama.kernel.WeightMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
 * {@link MatvecBench} for the ternary formats (their random rows need valid f16 scales at the end of
 * each block, which {@link TernaryChecks#randomRows} writes). Same shapes and the same counters.
 *
 * <pre>mvn -q -B -Pjmh verify -Djmh.args="TernaryBench"</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TernaryBench {
    @Param({"TQ2_0", "TQ1_0"})
    public String type;

    @Param({"256x768", "256x32000", "2048x5632", "4096x4096"})
    public String shape;

    private Arena arena;
    private Ternary format;
    private MemorySegment w;
    private long rowBytes;
    private int rows, cols;
    private Activation a;
    private float[] out;

    @Setup
    public void setup() {
        String[] cr = shape.split("x");
        cols = Integer.parseInt(cr[0]);
        rows = Integer.parseInt(cr[1]);
        format = type.equals("TQ2_0") ? TQ2_0.INSTANCE : TQ1_0.INSTANCE;
        rowBytes = format.type().bytesFor(cols);
        arena = Arena.ofShared();
        Random rnd = new Random(42);
        w = TernaryChecks.randomRows(format, rows, cols, rnd, arena);
        a = RandomWeights.activation(cols, ActivationKind.Q8_K, rnd);
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
    public float[] matvec(MatvecBench.Rates r) {
        format.matvec(w, rowBytes, cols, a, out, 0, rows);
        r.gbPerS += rowBytes * rows * 1e-9;
        r.gflopPerS += 2.0 * rows * cols * 1e-9;
        return out;
    }
}
