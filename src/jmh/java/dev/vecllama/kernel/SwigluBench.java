package dev.vecllama.kernel;

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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The FFN gate, silu(gate)·up, per token: vector path against its scalar reference, on the FFN
 * widths of the tiny models (768) and TinyLlama (5632). Gates are drawn like a trained model's
 * (mostly within ±8), so the vector path's scalar fallback for |x| above 87 is not exercised.
 *
 * <pre>mvn -q -B -Pjmh verify -Djmh.args="SwigluBench"</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SwigluBench {
    @Param({"768", "5632"})
    public int n;

    private float[] gate, up, out;

    @Setup
    public void setup() {
        Random random = new Random(1);
        gate = new float[n];
        up = new float[n];
        out = new float[n];
        for (int i = 0; i < n; i++) {
            gate[i] = (float) (3 * random.nextGaussian());
            up[i] = (float) random.nextGaussian();
        }
    }

    @Benchmark
    public float[] vector() {
        Exp.swigluVector(out, gate, up, n);
        return out;
    }

    @Benchmark
    public float[] reference() {
        Exp.swigluReference(out, gate, up, n);
        return out;
    }
}
