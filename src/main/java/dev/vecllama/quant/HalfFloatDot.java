package dev.vecllama.quant;

import static dev.vecllama.quant.VectorMath.F8;
import static dev.vecllama.quant.VectorMath.FLOATS;

import dev.vecllama.activation.Activation;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;

/**
 * The float dot product {@link F16} and {@link BF16} share: widen each 16-bit weight to f32 and FMA it
 * against the activation, already rounded to the same precision. {@code bf16} is a constant at both
 * call sites; where C2 compiles the loop on its own the test is loop-invariant and unswitched.
 *
 * <p>Float order: llama.cpp (AVX-512) multiplies F16 matrices with llamafile's tinyBLAS&lt;16, __m512&gt;:
 * one 16-lane accumulator per output, lane l taking {@code fma(w[16c + l], x[16c + l], acc[l])} for
 * c = 0, 1, …, then _mm512_reduce_add_ps, which folds lanes 8..15 onto 0..7 and finishes like
 * {@link VectorMath#hsum8}. We hold the 16 lanes as two 8-lane vectors (lanes 0..7 and 8..15), so the
 * first fold is one lanewise add. Elements past the last multiple of 16 (tinyBLAS declines such rows)
 * are added after, in order.
 */
final class HalfFloatDot {
    private HalfFloatDot() {}

    private static final int LANES = 16, HALF = LANES / 2;
    private static final VectorShuffle<Float> UPPER_HALF = VectorShuffle.fromOp(FLOATS, k -> (k + FLOATS.length() / 2) % FLOATS.length());

    /**
     * The dot of rows r0 ≤ r < r1 (row r at offset + r·rowBytes) into {@code out} ({@link RowKernel}).
     * {@code x}: the activations for bf16 weights; for f16 weights, times {@link Half#F16_SCALE}
     * ({@link Activation#halfScaled}), which makes every product the same float as the plain one.
     */
    static void dotRows(MemorySegment w, long offset, long rowBytes, float[] x, int n, boolean bf16, float[] out, int r0, int r1) {
        int d = RowKernel.pairDistance(r0, r1);
        for (int r = r0; r < r0 + d; r++) {
            int r2 = RowKernel.partner(r, d, r1);
            long off = offset + r * rowBytes, off2 = offset + r2 * rowBytes;
            int i = 0;
            if (FLOATS.length() == LANES) {
                // At 512 bits the 16 accumulators are one vector: half the operations per weight, which
                // is what decode from memory is short of (each waits in the scheduler for its load).
                FloatVector acc = FloatVector.zero(FLOATS), acc2 = acc;
                for (; i + LANES <= n; i += LANES) {
                    FloatVector xi = FloatVector.fromArray(FLOATS, x, i);
                    acc = (bf16 ? Half.bf16s16(w, off + 2L * i) : Half.f16sScaled16(w, off + 2L * i)).fma(xi, acc);
                    acc2 = (bf16 ? Half.bf16s16(w, off2 + 2L * i) : Half.f16sScaled16(w, off2 + 2L * i)).fma(xi, acc2);
                }
                out[r] = VectorMath.hsum8((FloatVector) acc.add(acc.rearrange(UPPER_HALF)).reinterpretShape(F8, 0)) + tail(w, off, x, i, n, bf16, !bf16);
                out[r2] = VectorMath.hsum8((FloatVector) acc2.add(acc2.rearrange(UPPER_HALF)).reinterpretShape(F8, 0)) + tail(w, off2, x, i, n, bf16, !bf16);
            } else {
                FloatVector lo = FloatVector.zero(F8), hi = lo, lo2 = lo, hi2 = lo;
                for (; i + LANES <= n; i += LANES) {
                    FloatVector xlo = FloatVector.fromArray(F8, x, i), xhi = FloatVector.fromArray(F8, x, i + 8);
                    lo = load(w, off + 2L * i, bf16).fma(xlo, lo);
                    hi = load(w, off + 2L * (i + 8), bf16).fma(xhi, hi);
                    lo2 = load(w, off2 + 2L * i, bf16).fma(xlo, lo2);
                    hi2 = load(w, off2 + 2L * (i + 8), bf16).fma(xhi, hi2);
                }
                out[r] = VectorMath.hsum8(lo.add(hi)) + tail(w, off, x, i, n, bf16, !bf16);
                out[r2] = VectorMath.hsum8(lo2.add(hi2)) + tail(w, off2, x, i, n, bf16, !bf16);
            }
        }
    }

    /** The scalar reference: the same 16 lanes, the same folds. */
    static float dotReference(MemorySegment w, long off, float[] x, int n, boolean bf16) {
        float[] acc = new float[LANES];
        int i = 0;
        for (; i + LANES <= n; i += LANES) {
            for (int l = 0; l < LANES; l++) acc[l] = Math.fma(weight(w, off, i + l, bf16), x[i + l], acc[l]);
        }
        float[] folded = new float[8];
        for (int l = 0; l < 8; l++) folded[l] = acc[l] + acc[l + 8];
        return VectorMath.hsum8(folded) + tail(w, off, x, i, n, bf16, false);
    }

    /** bf16 weights as floats; f16 weights divided by {@link Half#F16_SCALE}, which {@code x} then carries. */
    private static FloatVector load(MemorySegment w, long off, boolean bf16) {
        return bf16 ? Half.bf16s(w, off) : Half.f16sScaled(w, off);
    }

    private static float weight(MemorySegment w, long off, int i, boolean bf16) {
        return bf16 ? Half.bf16(w, off + 2L * i) : Half.f16(w, off + 2L * i);
    }

    /** The plain sum of products from element i on; {@code scaled}: x carries {@link Half#F16_SCALE}. */
    private static float tail(MemorySegment w, long off, float[] x, int i, int n, boolean bf16, boolean scaled) {
        float s = 0;
        for (; i < n; i++) s += (scaled ? weight(w, off, i, bf16) / Half.F16_SCALE : weight(w, off, i, bf16)) * x[i];
        return s;
    }

    /**
     * The lane kernel of both formats. Lane t follows {@link #dot} for token t: 16 accumulators per
     * row (element i into accumulator i mod 16), folded 16 → 8 → {@link VectorMath#hsum8}'s order,
     * plus the plain sum of the elements past the last multiple of 16.
     */
    static void matmul(MemorySegment w, long rowBytes, int cols, TokenLanes x, float[][] out, int r0, int r1, boolean bf16) {
        x.matmulGroupPairs(w, rowBytes, cols, cols, 0, out, r0, r1, bf16 ? HalfFloatDot::unpackBF16 : HalfFloatDot::unpackF16,
                (t, g, n, o, r, last) -> dotLaneQuads(t, g, g + 1, n, o, r, last), (t, g, n, o, r, last) -> dotLaneQuads(t, g, g, n, o, r, last));
    }

    /** A row of n f16 weights as floats into {@code wf[o ..]}. */
    private static void unpackF16(MemorySegment w, long off, int n, float[] wf, int o, float[] unused, int unusedOffset) {
        int i = 0;
        for (; i + F8.length() <= n; i += F8.length()) Half.f16sScaled(w, off + 2L * i).mul(Half.F16_SCALE).intoArray(wf, o + i);
        for (; i < n; i++) wf[o + i] = Half.f16(w, off + 2L * i);
    }

    /** A row of n bf16 weights as floats into {@code wf[o ..]}. */
    private static void unpackBF16(MemorySegment w, long off, int n, float[] wf, int o, float[] unused, int unusedOffset) {
        int i = 0;
        for (; i + F8.length() <= n; i += F8.length()) Half.bf16s(w, off + 2L * i).intoArray(wf, o + i);
        for (; i < n; i++) wf[o + i] = Half.bf16(w, off + 2L * i);
    }

    /**
     * Groups g and g2 of the tile's tokens against its 4 unpacked rows (rows r .. last, the last
     * repeated past it; a lone group runs as g2 = g, computed twice): each token vector loaded serves
     * 4 rows and each weight broadcast 2 groups, as in {@link Q8_0#dotLaneQuads}. Two of the 16
     * accumulators of each row and group at a time: 16 independent FMA chains. Accumulator l of row i
     * and group h is left at {@code partials[((4h + i)·16 + l)·WIDTH ..]}.
     */
    private static void dotLaneQuads(TokenLanes x, int g, int g2, int n, float[][] out, int r, int last) {
        int width = TokenLanes.WIDTH, full = n / LANES * LANES, n2 = 2 * n, n3 = 3 * n;
        float[] wf = x.rows, at = x.values, p = x.partials;
        int v = g * n * width, v2 = g2 * n * width;
        FloatVector zero = FloatVector.zero(FLOATS);
        for (int l = 0; l < HALF; l++) {
            // a_i, b_i: row i's accumulators l and l + 8 against group g; c_i, d_i: against g2.
            FloatVector a0 = zero, a1 = zero, a2 = zero, a3 = zero, b0 = zero, b1 = zero, b2 = zero, b3 = zero;
            FloatVector c0 = zero, c1 = zero, c2 = zero, c3 = zero, d0 = zero, d1 = zero, d2 = zero, d3 = zero;
            for (int i = l; i < full; i += LANES) {
                FloatVector x0 = FloatVector.fromArray(FLOATS, at, v + i * width), y0 = FloatVector.fromArray(FLOATS, at, v2 + i * width);
                FloatVector w = FloatVector.broadcast(FLOATS, wf[i]);
                a0 = x0.fma(w, a0);
                c0 = y0.fma(w, c0);
                w = FloatVector.broadcast(FLOATS, wf[n + i]);
                a1 = x0.fma(w, a1);
                c1 = y0.fma(w, c1);
                w = FloatVector.broadcast(FLOATS, wf[n2 + i]);
                a2 = x0.fma(w, a2);
                c2 = y0.fma(w, c2);
                w = FloatVector.broadcast(FLOATS, wf[n3 + i]);
                a3 = x0.fma(w, a3);
                c3 = y0.fma(w, c3);
                x0 = FloatVector.fromArray(FLOATS, at, v + (i + HALF) * width);
                y0 = FloatVector.fromArray(FLOATS, at, v2 + (i + HALF) * width);
                w = FloatVector.broadcast(FLOATS, wf[i + HALF]);
                b0 = x0.fma(w, b0);
                d0 = y0.fma(w, d0);
                w = FloatVector.broadcast(FLOATS, wf[n + i + HALF]);
                b1 = x0.fma(w, b1);
                d1 = y0.fma(w, d1);
                w = FloatVector.broadcast(FLOATS, wf[n2 + i + HALF]);
                b2 = x0.fma(w, b2);
                d2 = y0.fma(w, d2);
                w = FloatVector.broadcast(FLOATS, wf[n3 + i + HALF]);
                b3 = x0.fma(w, b3);
                d3 = y0.fma(w, d3);
            }
            // The first fold, accumulators l and l + 8 added (_mm512_reduce_add_ps's), here in registers.
            a0.add(b0).intoArray(p, l * width);
            a1.add(b1).intoArray(p, (HALF + l) * width);
            a2.add(b2).intoArray(p, (2 * HALF + l) * width);
            a3.add(b3).intoArray(p, (3 * HALF + l) * width);
            c0.add(d0).intoArray(p, (4 * HALF + l) * width);
            c1.add(d1).intoArray(p, (5 * HALF + l) * width);
            c2.add(d2).intoArray(p, (6 * HALF + l) * width);
            c3.add(d3).intoArray(p, (7 * HALF + l) * width);
        }
        for (int h = 0; h < 2; h++) {
            for (int i = 0; i < 4; i++) storeFolded(x, h == 0 ? g : g2, n, out, Math.min(r + i, last), (4 * h + i) * HALF * width, i);
        }
    }

    /**
     * Group g's results for {@code row}, the tile's row i: its 8 accumulators of the first fold at
     * {@code partials[base ..]} in {@link VectorMath#hsum8}'s order, plus the plain sum of the elements
     * past the last multiple of 16.
     *
     * <p>Scalar on purpose: C2 does not inline it into the kernel,
     * and written with vectors it stayed in C1 and its vector operations in the Java fallback: a
     * quarter of a tiny F16 model's prompt (JFR).
     */
    private static void storeFolded(TokenLanes x, int g, int n, float[][] out, int row, int base, int i) {
        int width = TokenLanes.WIDTH, v = g * n * width, first = x.first() + g * width;
        float[] p = x.partials, at = x.values, wf = x.rows;
        for (int t = 0; t < width; t++) {
            int b = base + t;
            float sum = VectorMath.hsum8(p[b], p[b + width], p[b + 2 * width], p[b + 3 * width], p[b + 4 * width], p[b + 5 * width], p[b + 6 * width], p[b + 7 * width]);
            float tail = 0;
            for (int k = n / LANES * LANES; k < n; k++) tail += at[v + k * width + t] * wf[i * n + k];
            out[first + t][row] = sum + tail;
        }
    }
}
