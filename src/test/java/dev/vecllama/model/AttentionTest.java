package dev.vecllama.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vecllama.kernel.Exp;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Both vector attentions against scalar ones with the same operations in the same order, bit for bit. */
class AttentionTest {
    /** Head dimensions and positions, odd ones included, that both attentions are checked at. */
    static final int[][] HALF_CASES = {{32, 1}, {32, 200}, {16, 50}, {64, 100}, {40, 33}, {8, 5}, {128, 64}};
    static final int[][] SINGLE_CASES = {{32, 1}, {32, 17}, {64, 100}, {40, 33}, {8, 5}, {128, 64}, {32, 200}, {48, 129}};

    static Stream<Arguments> halfCases() {
        return Arrays.stream(HALF_CASES).map(c -> Arguments.of(c[0], c[1]));
    }

    static Stream<Arguments> singleCases() {
        return Arrays.stream(SINGLE_CASES).map(c -> Arguments.of(c[0], c[1]));
    }

    /**
     * Decode attention against its scalar reference, over keys and values rounded to half as the
     * cache holds them; values spread over many binades so that the running sums cross into half
     * subnormals and near its largest values.
     */
    @ParameterizedTest
    @MethodSource("halfCases")
    void halfPrecisionEqualsItsScalarOrder(int hd, int positions) {
        Random rnd = new Random(hd * 1000 + positions + 1);
        int kvHeads = 2, stride = kvHeads * hd, kvo = hd;
        float[] keys = new float[positions * stride], values = new float[positions * stride], q = new float[3 * hd];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = KVCache.toHalf((float) rnd.nextGaussian());
            values[i] = KVCache.toHalf((float) (rnd.nextGaussian() * Math.pow(2, rnd.nextInt(40) - 28)));
        }
        for (int i = 0; i < q.length; i++) q[i] = (float) rnd.nextGaussian() * 3;
        float scale = 1f / (float) Math.sqrt(hd);
        float[] out = new float[3 * hd], want = new float[3 * hd];
        Attention.halfPrecisionReference(q, hd, keys, values, stride, kvo, hd, positions - 1, scale, new float[hd], new float[hd], want, hd);
        for (int rep = 0; rep < 300; rep++) { // both before and after C2 compiles the vector path
            Attention.halfPrecision(q, hd, keys, values, stride, kvo, hd, positions - 1, scale, new float[hd], new float[hd], out, hd);
            for (int i = 0; i < hd; i++) {
                int at = i, r = rep;
                assertEquals(Float.floatToRawIntBits(want[hd + i]), Float.floatToRawIntBits(out[hd + i]), () -> "call " + r + ", element " + at + ": " + out[hd + at] + " != " + want[hd + at]);
            }
        }
    }

    /**
     * Many heads over 3 positions each: a rounding that differs in one step (an unfused multiply-add,
     * a half rounded the wrong way) reaches the output before later steps can absorb it.
     */
    @Test
    void halfPrecisionEqualsItsScalarOrderStepByStep() {
        Random rnd = new Random(11);
        int hd = 32, positions = 3, stride = hd;
        float[] keys = new float[positions * stride], values = new float[positions * stride], q = new float[hd];
        float[] out = new float[hd], want = new float[hd], qh = new float[hd], acc = new float[hd];
        for (int trial = 0; trial < 20_000; trial++) {
            for (int i = 0; i < keys.length; i++) {
                keys[i] = KVCache.toHalf((float) rnd.nextGaussian());
                values[i] = KVCache.toHalf((float) (rnd.nextGaussian() * Math.pow(2, rnd.nextInt(40) - 28)));
            }
            for (int i = 0; i < hd; i++) q[i] = (float) rnd.nextGaussian() * 3;
            Attention.halfPrecisionReference(q, 0, keys, values, stride, 0, hd, positions - 1, 0.25f, qh, acc, want, 0);
            Attention.halfPrecision(q, 0, keys, values, stride, 0, hd, positions - 1, 0.25f, qh, acc, out, 0);
            for (int i = 0; i < hd; i++) {
                int at = i, t = trial;
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(out[i]), () -> "trial " + t + ", element " + at + ": " + out[at] + " != " + want[at]);
            }
        }
    }

    /**
     * Random keys (halves, as the cache holds them) and values for 2 KV heads (the second one used, at
     * kvo = hd) over {@code positions} of a cache with room for more, its keys transposed, and
     * {@code qHeads} random query heads.
     */
    private record SingleCase(int hd, int stride, int kvo, int cs, float[] keys, float[] values, float[] q, float[] keysT, float scale) {
        static SingleCase of(int hd, int positions, int qHeads, long seed) {
            Random rnd = new Random(seed);
            int stride = 2 * hd, capacity = positions + 7;
            short[] halves = new short[capacity * stride];
            float[] keys = new float[capacity * stride], values = new float[capacity * stride], q = new float[qHeads * hd];
            for (int i = 0; i < keys.length; i++) {
                halves[i] = Float.floatToFloat16((float) rnd.nextGaussian());
                keys[i] = Float.float16ToFloat(halves[i]);
                values[i] = (float) rnd.nextGaussian();
            }
            for (int i = 0; i < q.length; i++) q[i] = (float) rnd.nextGaussian() * 3;
            int cs = Attention.padded(capacity);
            float[] keysT = new float[hd * cs];
            // Stale values past the last position, as a transposed cache holds from earlier batches.
            java.util.Arrays.fill(keysT, Float.NaN);
            Attention.transposeKeys(halves, stride, hd, hd, positions, keysT, cs);
            return new SingleCase(hd, stride, hd, cs, keys, values, q, keysT, 1f / (float) Math.sqrt(hd));
        }
    }

    @ParameterizedTest
    @MethodSource("singleCases")
    void singlePrecisionEqualsItsScalarOrder(int hd, int positions) {
        SingleCase c = SingleCase.of(hd, positions, 3, hd * 1000 + positions);
        int stride = c.stride(), kvo = c.kvo();
        float[] keys = c.keys(), values = c.values(), q = c.q();
        float scale = c.scale();
        float[] out = new float[3 * hd];
        Attention.singlePrecision(q, hd, c.keysT(), c.cs(), values, stride, kvo, hd, positions - 1, scale, new float[c.cs()], out, hd);

        float[] scores = new float[positions];
        float max = Float.NEGATIVE_INFINITY;
        for (int p = 0; p < positions; p++) {
            float dot = 0;
            for (int i = 0; i < hd; i++) dot = Math.fma(keys[p * stride + kvo + i], q[hd + i], dot);
            scores[p] = dot * scale;
            max = Math.max(max, scores[p]);
        }
        float sum = 0;
        for (int p = 0; p < positions; p++) {
            scores[p] = Exp.libmExpf(scores[p] - max);
            sum += scores[p];
        }
        float inv = 1f / sum;
        for (int i = 0; i < hd; i++) {
            float acc = 0;
            for (int p = 0; p < positions; p++) acc = Math.fma(values[p * stride + kvo + i], scores[p] * inv, acc);
            assertEquals(Float.floatToRawIntBits(acc), Float.floatToRawIntBits(out[hd + i]), "element " + i + ": " + out[hd + i] + " != " + acc);
        }
    }

    /** Two heads sharing a KV head, at once, against each alone, bit for bit (stale NaNs in the scratch and the key rows' padding). */
    @ParameterizedTest
    @MethodSource("singleCases")
    void singlePrecisionPairEqualsTwoSingles(int hd, int positions) {
        SingleCase c = SingleCase.of(hd, positions, 4, hd * 7 + positions);
        int last = positions - 1;
        float[] want = new float[4 * hd], got = new float[4 * hd], scores = new float[c.cs()], scores2 = new float[c.cs()];
        Attention.singlePrecision(c.q(), hd, c.keysT(), c.cs(), c.values(), c.stride(), c.kvo(), hd, last, c.scale(), scores, want, hd);
        Attention.singlePrecision(c.q(), 2 * hd, c.keysT(), c.cs(), c.values(), c.stride(), c.kvo(), hd, last, c.scale(), scores, want, 2 * hd);
        java.util.Arrays.fill(scores, Float.NaN);
        java.util.Arrays.fill(scores2, Float.NaN);
        Attention.singlePrecisionPair(c.q(), hd, 2 * hd, c.keysT(), c.cs(), c.values(), c.stride(), c.kvo(), hd, last, c.scale(),
                scores, scores2, got, hd, 2 * hd);
        for (int i = 0; i < want.length; i++) {
            int at = i;
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), () -> "element " + at + ": " + got[at] + " != " + want[at]);
        }
    }
}
