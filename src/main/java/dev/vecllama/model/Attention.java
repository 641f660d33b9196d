package dev.vecllama.model;

import dev.vecllama.kernel.Exp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * One query head attending over cached positions 0..last: softmax(q·K / √d)·V. Two arithmetics,
 * chosen the way llama.cpp's CPU flash attention chooses them, so that our numbers follow its:
 * <ul>
 * <li>{@link #halfPrecision}: small batches and single tokens. The query is rounded to f16 like
 *     the keys, the softmax is online, and the weighted sum of values is kept in f16.
 * <li>{@link #singlePrecision}: batches of {@link #TILED_BATCH} tokens or more (llama.cpp's tiled
 *     path): f32 throughout, vectorized. Long prompts spend their time here.
 * </ul>
 */
final class Attention {
    private Attention() {}

    /** From this many tokens in a batch on, llama.cpp switches to its tiled single-precision kernel. */
    static final int TILED_BATCH = 64;

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /**
     * Writes the head's output to {@code out[oo .. oo+hd)}. Keys and values of position p start at
     * {@code p * stride + kvo}; {@code qh} and {@code acc} are scratch of length hd.
     */
    static void halfPrecision(float[] q, int qo, float[] keys, float[] values, int stride, int kvo, int hd, int last,
                              float scale, float[] qh, float[] acc, float[] out, int oo) {
        for (int i = 0; i < hd; i++) qh[i] = KVCache.toHalf(q[qo + i]);
        java.util.Arrays.fill(acc, 0, hd, 0f);
        float max = Float.NEGATIVE_INFINITY, sum = 0;
        for (int p = 0; p <= last; p++) {
            int ko = p * stride + kvo;
            double dot = 0;
            for (int i = 0; i < hd; i++) dot += qh[i] * keys[ko + i];
            float score = (float) dot * scale;
            float rescale = 1f, weight = 1f;
            if (score > max) {
                rescale = Exp.libmExpf(max - score);
                max = score;
                for (int i = 0; i < hd; i++) acc[i] = KVCache.toHalf(acc[i] * rescale);
            } else {
                weight = Exp.libmExpf(score - max);
            }
            for (int i = 0; i < hd; i++) acc[i] = KVCache.toHalf(Math.fma(values[ko + i], weight, acc[i]));
            sum = Math.fma(sum, rescale, weight);
        }
        float inv = 1f / sum;
        for (int i = 0; i < hd; i++) out[oo + i] = acc[i] * inv;
    }

    /** As {@link #halfPrecision}, in f32 with a plain softmax; {@code scores} holds last+1 floats, {@code lanes} S.length(). */
    static void singlePrecision(float[] q, int qo, float[] keys, float[] values, int stride, int kvo, int hd, int last,
                                float scale, float[] scores, float[] lanes, float[] out, int oo) {
        int vecEnd = S.loopBound(hd);
        float max = Float.NEGATIVE_INFINITY;
        for (int p = 0; p <= last; p++) {
            int ko = p * stride + kvo;
            FloatVector acc = FloatVector.zero(S);
            for (int i = 0; i < vecEnd; i += S.length()) {
                acc = FloatVector.fromArray(S, q, qo + i).fma(FloatVector.fromArray(S, keys, ko + i), acc);
            }
            acc.intoArray(lanes, 0);
            float dot = 0;
            for (float l : lanes) dot += l; // a fixed order: the JIT tiers must agree on every bit
            for (int i = vecEnd; i < hd; i++) dot = Math.fma(q[qo + i], keys[ko + i], dot);
            scores[p] = dot * scale;
            max = Math.max(max, scores[p]);
        }
        float sum = Exp.libmExpfSum(scores, max, 0, last + 1);
        float inv = 1f / sum;
        java.util.Arrays.fill(out, oo, oo + hd, 0f);
        for (int p = 0; p <= last; p++) {
            float w = scores[p] * inv;
            int vo = p * stride + kvo;
            FloatVector wv = FloatVector.broadcast(S, w);
            int i = 0;
            for (; i < vecEnd; i += S.length()) {
                FloatVector.fromArray(S, values, vo + i).fma(wv, FloatVector.fromArray(S, out, oo + i)).intoArray(out, oo + i);
            }
            for (; i < hd; i++) out[oo + i] = Math.fma(values[vo + i], w, out[oo + i]);
        }
    }
}
