package dev.vecllama.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vecllama.kernel.Exp;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The tiled path's vector attention against a scalar one with the same operations in the same order, bit for bit. */
class AttentionTest {
    @ParameterizedTest
    @CsvSource({"32, 1", "32, 17", "64, 100", "40, 33", "8, 5", "128, 64"})
    void singlePrecisionEqualsItsScalarOrder(int hd, int positions) {
        Random rnd = new Random(hd * 1000 + positions);
        int kvHeads = 2, stride = kvHeads * hd, kvo = hd, capacity = positions + 7;
        float[] keys = new float[capacity * stride], values = new float[capacity * stride], q = new float[3 * hd];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = (float) rnd.nextGaussian();
            values[i] = (float) rnd.nextGaussian();
        }
        for (int i = 0; i < q.length; i++) q[i] = (float) rnd.nextGaussian() * 3;
        int cs = Attention.padded(capacity);
        float[] keysT = new float[hd * cs];
        // Stale values past the last position, as a transposed cache holds from earlier batches.
        java.util.Arrays.fill(keysT, Float.NaN);
        Attention.transposeKeys(keys, stride, kvo, hd, positions, keysT, cs);
        float scale = 1f / (float) Math.sqrt(hd);
        float[] out = new float[3 * hd];
        Attention.singlePrecision(q, hd, keysT, cs, values, stride, kvo, hd, positions - 1, scale, new float[Attention.padded(capacity)], out, hd);

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
}
