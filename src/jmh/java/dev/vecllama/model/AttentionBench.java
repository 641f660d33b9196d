package dev.vecllama.model;

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
 * One head's attention for one token over a context: decode's f16-rounding kernel and its scalar
 * reference, and the batch path's single-precision kernel over transposed keys, at the tiny
 * models' head size (32) and Llama's (64, 128).
 *
 * <pre>mvn -q -B -Pjmh verify -Djmh.args="AttentionBench"</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AttentionBench {
    @Param({"32", "64", "128"})
    public int hd;

    @Param({"128", "512"})
    public int positions;

    private float[] keys, values, keysT, q, qh, acc, out, scores, scores2, out2;
    private int cs;

    @Setup
    public void setup() {
        Random random = new Random(1);
        keys = new float[positions * hd];
        values = new float[positions * hd];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = KVCache.toHalf((float) random.nextGaussian());
            values[i] = KVCache.toHalf((float) random.nextGaussian());
        }
        q = new float[hd];
        for (int i = 0; i < hd; i++) q[i] = (float) random.nextGaussian();
        cs = Attention.padded(positions);
        keysT = new float[hd * cs];
        short[] halves = new short[keys.length];
        for (int i = 0; i < keys.length; i++) halves[i] = Float.floatToFloat16(keys[i]);
        Attention.transposeKeys(halves, hd, 0, hd, positions, keysT, cs);
        qh = new float[hd];
        acc = new float[hd];
        out = new float[hd];
        scores = new float[cs];
        scores2 = new float[cs];
        q2 = new float[2 * hd];
        for (int i = 0; i < 2 * hd; i++) q2[i] = (float) random.nextGaussian();
        out2 = new float[2 * hd];
    }

    private float[] q2;

    @Benchmark
    public float[] halfPrecision() {
        Attention.halfPrecision(q, 0, keys, values, hd, 0, hd, positions - 1, 0.125f, qh, acc, out, 0);
        return out;
    }

    @Benchmark
    public float[] halfPrecisionReference() {
        Attention.halfPrecisionReference(q, 0, keys, values, hd, 0, hd, positions - 1, 0.125f, qh, acc, out, 0);
        return out;
    }

    @Benchmark
    public float[] singlePrecision() {
        Attention.singlePrecision(q, 0, keysT, cs, values, hd, 0, hd, positions - 1, 0.125f, scores, out, 0);
        return out;
    }

    /** Two heads sharing a KV head, as a GQA model's batch attention runs them. */
    @Benchmark
    public float[] singlePrecisionPair() {
        Attention.singlePrecisionPair(q2, 0, hd, keysT, cs, values, hd, 0, hd, positions - 1, 0.125f, scores, scores2, out2, 0, hd);
        return out2;
    }

    /** The same two heads one after the other. */
    @Benchmark
    public float[] singlePrecisionTwice() {
        Attention.singlePrecision(q2, 0, keysT, cs, values, hd, 0, hd, positions - 1, 0.125f, scores, out2, 0);
        Attention.singlePrecision(q2, hd, keysT, cs, values, hd, 0, hd, positions - 1, 0.125f, scores2, out2, hd);
        return out2;
    }
}
