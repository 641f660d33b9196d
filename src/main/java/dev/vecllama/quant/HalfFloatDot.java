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

    private static final int LANES = 16;
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
        x.matmul(w, rowBytes, cols, cols, 0, out, r0, r1, bf16 ? HalfFloatDot::unpackBF16 : HalfFloatDot::unpackF16, HalfFloatDot::dotLanes);
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
     * Group g's tokens against the two unpacked rows. Four of the 16 accumulators of each row at a
     * time: 8 independent FMA chains, enough to hide the FMA latency.
     */
    private static void dotLanes(TokenLanes x, int g, int n, float[][] out, int r, int r2) {
        int width = TokenLanes.WIDTH, full = n / LANES * LANES;
        float[] wf = x.rows, at = x.values, p = x.partials;
        int v = g * n * width;
        FloatVector zero = FloatVector.zero(FLOATS);
        for (int l = 0; l < LANES; l += 4) {
            FloatVector a0 = zero, a1 = zero, a2 = zero, a3 = zero, b0 = zero, b1 = zero, b2 = zero, b3 = zero;
            for (int i = l; i < full; i += LANES) {
                FloatVector x0 = FloatVector.fromArray(FLOATS, at, v + i * width), x1 = FloatVector.fromArray(FLOATS, at, v + (i + 1) * width);
                FloatVector x2 = FloatVector.fromArray(FLOATS, at, v + (i + 2) * width), x3 = FloatVector.fromArray(FLOATS, at, v + (i + 3) * width);
                a0 = x0.fma(FloatVector.broadcast(FLOATS, wf[i]), a0);
                b0 = x0.fma(FloatVector.broadcast(FLOATS, wf[n + i]), b0);
                a1 = x1.fma(FloatVector.broadcast(FLOATS, wf[i + 1]), a1);
                b1 = x1.fma(FloatVector.broadcast(FLOATS, wf[n + i + 1]), b1);
                a2 = x2.fma(FloatVector.broadcast(FLOATS, wf[i + 2]), a2);
                b2 = x2.fma(FloatVector.broadcast(FLOATS, wf[n + i + 2]), b2);
                a3 = x3.fma(FloatVector.broadcast(FLOATS, wf[i + 3]), a3);
                b3 = x3.fma(FloatVector.broadcast(FLOATS, wf[n + i + 3]), b3);
            }
            a0.intoArray(p, l * width);
            a1.intoArray(p, (l + 1) * width);
            a2.intoArray(p, (l + 2) * width);
            a3.intoArray(p, (l + 3) * width);
            b0.intoArray(p, (LANES + l) * width);
            b1.intoArray(p, (LANES + l + 1) * width);
            b2.intoArray(p, (LANES + l + 2) * width);
            b3.intoArray(p, (LANES + l + 3) * width);
        }
        int first = x.first() + g * width;
        for (int h = 0; h < 2; h++) {
            int base = h * LANES * width, row = h == 0 ? r : r2;
            FloatVector f0 = folded(p, base, 0), f1 = folded(p, base, 1), f2 = folded(p, base, 2), f3 = folded(p, base, 3);
            FloatVector f4 = folded(p, base, 4), f5 = folded(p, base, 5), f6 = folded(p, base, 6), f7 = folded(p, base, 7);
            FloatVector s = f0.add(f4).add(f2.add(f6)).add(f1.add(f5).add(f3.add(f7)));
            FloatVector tail = zero;
            for (int i = full; i < n; i++) tail = tail.add(FloatVector.fromArray(FLOATS, at, v + i * width).mul(wf[h * n + i]));
            s.add(tail).intoArray(p, 0);
            for (int t = 0; t < width; t++) out[first + t][row] = p[t];
        }
    }

    /** Accumulators l and l + 8 of the row at {@code base}, added: _mm512_reduce_add_ps's first fold. */
    private static FloatVector folded(float[] p, int base, int l) {
        int width = TokenLanes.WIDTH;
        return FloatVector.fromArray(FLOATS, p, base + l * width).add(FloatVector.fromArray(FLOATS, p, base + (l + 8) * width));
    }
}
