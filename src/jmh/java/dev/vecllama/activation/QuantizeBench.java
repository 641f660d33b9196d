package dev.vecllama.activation;

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
 * Dynamic activation quantization of one token's matmul input (the hidden width of the tiny models
 * and of TinyLlama): each vector quantizer against its scalar reference, and the widening into the
 * decode kernels' 16-bit forms.
 *
 * <pre>mvn -q -B -Pjmh verify -Djmh.args="QuantizeBench"</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class QuantizeBench {
    @Param({"256", "2048"})
    public int n;

    private float[] x, scale;
    private byte[] q;
    private short[] sums, wide, evens, odds;

    @Setup
    public void setup() {
        Random random = new Random(1);
        x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) random.nextGaussian();
        q = new byte[n];
        scale = new float[n / 32];
        sums = new short[n / 16];
        wide = new short[n];
        evens = new short[n / 2];
        odds = new short[n / 2];
        ActivationQuantizer.quantizeQ8_KReference(x, n, q, scale, sums);
    }

    @Benchmark
    public byte[] q8_0Vector() {
        ActivationQuantizer.quantizeQ8_0Vector(x, n, q, scale);
        return q;
    }

    @Benchmark
    public byte[] q8_0Reference() {
        ActivationQuantizer.quantizeQ8_0Reference(x, n, q, scale);
        return q;
    }

    @Benchmark
    public byte[] q8_KVector() {
        ActivationQuantizer.quantizeQ8_KVector(x, n, q, scale, sums);
        return q;
    }

    @Benchmark
    public byte[] q8_KReference() {
        ActivationQuantizer.quantizeQ8_KReference(x, n, q, scale, sums);
        return q;
    }

    @Benchmark
    public short[] widenVector() {
        ActivationQuantizer.widenVector(q, n, wide, evens, odds);
        return wide;
    }

    @Benchmark
    public short[] widenReference() {
        ActivationQuantizer.widenReference(q, n, wide, evens, odds);
        return wide;
    }
}
