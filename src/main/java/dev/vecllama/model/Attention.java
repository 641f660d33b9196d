package dev.vecllama.model;

import dev.vecllama.kernel.Exp;
import dev.vecllama.kernel.KernelWarmup;
import dev.vecllama.kernel.VectorWidth;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
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

    private static final VectorSpecies<Float> S = VectorWidth.FLOATS;

    private static final VectorSpecies<Double> D = VectorSpecies.of(double.class, S.vectorShape());
    /** Float products one double vector takes: half as wide, so each converts lane for lane. */
    private static final VectorSpecies<Float> P = VectorSpecies.of(float.class, VectorShape.forBitSize(S.vectorBitSize() / 2));
    private static final int PRODUCTS = P.length();
    private static final VectorShuffle<Double> SWAP_QUARTETS = VectorShuffle.fromOp(D, k -> (k ^ 4) % D.length());
    private static final VectorShuffle<Double> SWAP_PAIRS = VectorShuffle.fromOp(D, k -> (k ^ 2) % D.length());
    private static final VectorShuffle<Double> SWAP_NEIGHBOURS = VectorShuffle.fromOp(D, k -> (k ^ 1) % D.length());

    /**
     * What the warm-up thread calls until halfPrecision, and the conversion of the cache's halves to
     * floats before it (KVCache#toFloats), are fast: a 64-wide head over 64 positions.
     */
    static final KernelWarmup.Switch EXERCISE = new KernelWarmup.Switch() {
        private static final int HD = 64, POSITIONS = 64;
        private final short[] halves = halves();
        private final float[] keys = new float[HD * POSITIONS], values = new float[HD * POSITIONS];
        private final float[] q = new float[HD], qh = new float[HD], acc = new float[HD], out = new float[HD];

        private static short[] halves() {
            short[] x = new short[HD * POSITIONS];
            for (int i = 0; i < x.length; i++) x[i] = Float.floatToFloat16((float) Math.sin(i));
            return x;
        }

        @Override
        public void call() {
            KVCache.toFloats(halves, 0, keys, keys.length);
            KVCache.toFloats(halves, 0, values, values.length);
            halfPrecision(q, 0, keys, values, HD, 0, HD, POSITIONS - 1, 0.125f, qh, acc, out, 0);
        }

        @Override
        public Runnable reference() {
            return () -> {
                for (int i = 0; i < halves.length; i++) keys[i] = values[i] = Float.float16ToFloat(halves[i]);
                halfPrecisionReference(q, 0, keys, values, HD, 0, HD, POSITIONS - 1, 0.125f, qh, acc, out, 0);
            };
        }
    };

    /**
     * {@link #halfPrecision} once it is compiled, its scalar reference before (the same floats):
     * interpreted, vector code is many times slower than scalar code.
     */
    static void decode(float[] q, int qo, float[] keys, float[] values, int stride, int kvo, int hd, int last,
                       float scale, float[] qh, float[] acc, float[] out, int oo) {
        if (EXERCISE.on()) halfPrecision(q, qo, keys, values, stride, kvo, hd, last, scale, qh, acc, out, oo);
        else halfPrecisionReference(q, qo, keys, values, stride, kvo, hd, last, scale, qh, acc, out, oo);
    }

    /**
     * Writes the head's output to {@code out[oo .. oo+hd)}. Keys and values of position p start at
     * {@code p * stride + kvo}; {@code qh} and {@code acc} are scratch of length hd.
     *
     * <p>llama.cpp (head sizes below 64, which its SIMD loop leaves to the scalar tail) sums each score
     * in double from float products; we add the same products as doubles a vector at a time, which
     * rounds to the same float unless a sum falls within a few doubles' ulps of a float tie. Every
     * other step is the same operation per element as {@link #halfPrecisionReference}, so the values
     * side is bit for bit.
     */
    static void halfPrecision(float[] q, int qo, float[] keys, float[] values, int stride, int kvo, int hd, int last,
                              float scale, float[] qh, float[] acc, float[] out, int oo) {
        KVCache.toHalf(q, qo, 1f, qh, 0, hd);
        java.util.Arrays.fill(acc, 0, hd, 0f);
        float max = Float.NEGATIVE_INFINITY, sum = 0;
        for (int p = 0; p <= last; p++) {
            int ko = p * stride + kvo;
            float score = (float) keyDot(qh, keys, ko, hd) * scale;
            float rescale = 1f, weight = 1f;
            if (score > max) {
                rescale = Exp.libmExpf(max - score);
                max = score;
                KVCache.toHalf(acc, 0, rescale, acc, 0, hd);
            } else {
                weight = Exp.libmExpf(score - max);
            }
            addWeighted(values, ko, weight, acc, hd);
            sum = Math.fma(sum, rescale, weight);
        }
        float inv = 1f / sum;
        int vecEnd = S.loopBound(hd);
        for (int i = 0; i < vecEnd; i += LANES) FloatVector.fromArray(S, acc, i).mul(inv).intoArray(out, oo + i);
        for (int i = vecEnd; i < hd; i++) out[oo + i] = acc[i] * inv;
    }

    // The steps below take and give arrays: a vector passed to a method C2 does not inline becomes an object.

    /** q·k in double, from float products, a double vector at a time. */
    private static double keyDot(float[] qh, float[] keys, int ko, int hd) {
        DoubleVector d0 = DoubleVector.zero(D), d1 = d0;
        int i = 0;
        for (; i + 2 * PRODUCTS <= hd; i += 2 * PRODUCTS) {
            d0 = d0.add((DoubleVector) FloatVector.fromArray(P, qh, i).mul(FloatVector.fromArray(P, keys, ko + i)).convertShape(VectorOperators.F2D, D, 0));
            d1 = d1.add((DoubleVector) FloatVector.fromArray(P, qh, i + PRODUCTS).mul(FloatVector.fromArray(P, keys, ko + i + PRODUCTS)).convertShape(VectorOperators.F2D, D, 0));
        }
        // The lanes' sum in one fixed order, whatever tier runs it (reduceLanes leaves the order open).
        DoubleVector d = d0.add(d1);
        if (D.length() >= 8) d = d.add(d.rearrange(SWAP_QUARTETS));
        if (D.length() >= 4) d = d.add(d.rearrange(SWAP_PAIRS));
        double dot = d.add(d.rearrange(SWAP_NEIGHBOURS)).lane(0);
        for (; i < hd; i++) dot += qh[i] * keys[ko + i];
        return dot;
    }

    /** {@code acc[i] = toHalf(fma(values[vo + i], weight, acc[i]))}: the fma's, then the rounding, in two passes. */
    private static void addWeighted(float[] values, int vo, float weight, float[] acc, int n) {
        int vecEnd = S.loopBound(n);
        FloatVector w = FloatVector.broadcast(S, weight);
        for (int i = 0; i < vecEnd; i += LANES) FloatVector.fromArray(S, values, vo + i).fma(w, FloatVector.fromArray(S, acc, i)).intoArray(acc, i);
        for (int i = vecEnd; i < n; i++) acc[i] = Math.fma(values[vo + i], weight, acc[i]);
        KVCache.toHalf(acc, 0, 1f, acc, 0, n);
    }

    /** {@link #halfPrecision} one element at a time, each score summed in double in element order, as llama.cpp's scalar tail does. */
    static void halfPrecisionReference(float[] q, int qo, float[] keys, float[] values, int stride, int kvo, int hd, int last,
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

    /** Positions per vector of scores: {@link #transposeKeys} pads each key row of the transposed cache to a multiple of it. */
    static final int LANES = S.length();

    /** {@code positions} rounded up to a multiple of {@link #LANES}: the row length of a transposed key cache. */
    static int padded(int positions) {
        return (positions + LANES - 1) / LANES * LANES;
    }

    /**
     * Keys of positions 0 .. positions − 1 for one KV head (halves at {@code kvo} in rows
     * {@code stride} apart, as the cache holds them) into {@code keysT} as floats, transposed: element
     * i of position p at {@code i·cs + p}.
     */
    static void transposeKeys(short[] keys, int stride, int kvo, int hd, int positions, float[] keysT, int cs) {
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < hd; i++) keysT[i * cs + p] = Float.float16ToFloat(keys[p * stride + kvo + i]);
        }
    }

    /**
     * As {@link #halfPrecision}, in f32 with a plain softmax. The keys come transposed
     * ({@link #transposeKeys}), so that one vector holds the scores of {@link #LANES} positions, each
     * an fma chain over the head's elements in order; {@code scores} holds last + 1 floats rounded up
     * to a multiple of LANES. Every step is lanewise, so every JIT tier gives the same bits.
     */
    static void singlePrecision(float[] q, int qo, float[] keysT, int cs, float[] values, int stride, int kvo, int hd, int last,
                                float scale, float[] scores, float[] out, int oo) {
        softmax(q, qo, keysT, cs, hd, last, scale, scores);
        // Each output element is an fma chain over positions in order, held in a register per vector
        // of elements, two vectors at a time for two chains.
        int positions = last + 1, vecEnd = S.loopBound(hd), i = 0;
        for (; i + 2 * LANES <= vecEnd; i += 2 * LANES) {
            FloatVector acc = FloatVector.zero(S), acc2 = acc;
            for (int p = 0; p < positions; p++) {
                FloatVector w = FloatVector.broadcast(S, scores[p]);
                int v = p * stride + kvo + i;
                acc = FloatVector.fromArray(S, values, v).fma(w, acc);
                acc2 = FloatVector.fromArray(S, values, v + LANES).fma(w, acc2);
            }
            acc.intoArray(out, oo + i);
            acc2.intoArray(out, oo + i + LANES);
        }
        weightedTail(values, stride, kvo, hd, positions, scores, out, oo, i);
    }

    /**
     * {@link #singlePrecision} for two query heads of one token that share a KV head (at qo and qo2,
     * into oo and oo2), bit for bit: each value vector loaded once feeds both heads' chains, four
     * chains where one head has two.
     */
    static void singlePrecisionPair(float[] q, int qo, int qo2, float[] keysT, int cs, float[] values, int stride, int kvo, int hd, int last,
                                    float scale, float[] scores, float[] scores2, float[] out, int oo, int oo2) {
        softmax(q, qo, keysT, cs, hd, last, scale, scores);
        softmax(q, qo2, keysT, cs, hd, last, scale, scores2);
        int positions = last + 1, vecEnd = S.loopBound(hd), i = 0;
        for (; i + 2 * LANES <= vecEnd; i += 2 * LANES) {
            FloatVector a = FloatVector.zero(S), a2 = a, b = a, b2 = a;
            for (int p = 0; p < positions; p++) {
                FloatVector w = FloatVector.broadcast(S, scores[p]), w2 = FloatVector.broadcast(S, scores2[p]);
                int v = p * stride + kvo + i;
                FloatVector x = FloatVector.fromArray(S, values, v), x2 = FloatVector.fromArray(S, values, v + LANES);
                a = x.fma(w, a);
                a2 = x2.fma(w, a2);
                b = x.fma(w2, b);
                b2 = x2.fma(w2, b2);
            }
            a.intoArray(out, oo + i);
            a2.intoArray(out, oo + i + LANES);
            b.intoArray(out, oo2 + i);
            b2.intoArray(out, oo2 + i + LANES);
        }
        weightedTail(values, stride, kvo, hd, positions, scores, out, oo, i);
        weightedTail(values, stride, kvo, hd, positions, scores2, out, oo2, i);
    }

    /** The head's scores over positions 0 .. last into {@code scores}, softmaxed. */
    private static void softmax(float[] q, int qo, float[] keysT, int cs, int hd, int last, float scale, float[] scores) {
        int positions = last + 1, padded = padded(positions);
        FloatVector scaleV = FloatVector.broadcast(S, scale);
        // Four vectors of positions at a time: one fma chain is bound by the fma's latency, four are not.
        int p = 0;
        for (; p + 4 * LANES <= padded; p += 4 * LANES) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int i = 0; i < hd; i++) {
                FloatVector qi = FloatVector.broadcast(S, q[qo + i]);
                int k = i * cs + p;
                a0 = FloatVector.fromArray(S, keysT, k).fma(qi, a0);
                a1 = FloatVector.fromArray(S, keysT, k + LANES).fma(qi, a1);
                a2 = FloatVector.fromArray(S, keysT, k + 2 * LANES).fma(qi, a2);
                a3 = FloatVector.fromArray(S, keysT, k + 3 * LANES).fma(qi, a3);
            }
            a0.mul(scaleV).intoArray(scores, p);
            a1.mul(scaleV).intoArray(scores, p + LANES);
            a2.mul(scaleV).intoArray(scores, p + 2 * LANES);
            a3.mul(scaleV).intoArray(scores, p + 3 * LANES);
        }
        for (; p < positions; p += LANES) {
            FloatVector acc = FloatVector.zero(S);
            for (int i = 0; i < hd; i++) acc = FloatVector.fromArray(S, keysT, i * cs + p).fma(FloatVector.broadcast(S, q[qo + i]), acc);
            acc.mul(scaleV).intoArray(scores, p);
        }
        // The maximum a vector at a time: one scalar Math.max chain was a tenth of a tiny model's
        // prompt at 256 positions (JFR). A maximum is the same in any order.
        FloatVector m = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (p = 0; p + LANES <= positions; p += LANES) m = m.max(FloatVector.fromArray(S, scores, p));
        float max = m.reduceLanes(VectorOperators.MAX);
        for (; p < positions; p++) max = Math.max(max, scores[p]);
        float inv = 1f / Exp.libmExpfSum(scores, max, 0, positions);
        for (p = 0; p < positions; p++) scores[p] *= inv;
    }

    /** Output elements i.. of a head: a last single vector, then the elements past the last whole vector. */
    private static void weightedTail(float[] values, int stride, int kvo, int hd, int positions, float[] scores, float[] out, int oo, int i) {
        for (; i < S.loopBound(hd); i += LANES) {
            FloatVector acc = FloatVector.zero(S);
            for (int p = 0; p < positions; p++) acc = FloatVector.fromArray(S, values, p * stride + kvo + i).fma(FloatVector.broadcast(S, scores[p]), acc);
            acc.intoArray(out, oo + i);
        }
        for (; i < hd; i++) {
            float acc = 0;
            for (int p = 0; p < positions; p++) acc = Math.fma(values[p * stride + kvo + i], scores[p], acc);
            out[oo + i] = acc;
        }
    }
}
