package dev.vecllama.quant;

import static dev.vecllama.quant.VectorMath.F8;

import dev.vecllama.activation.Activation;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

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

    /**
     * {@code x}: the activations for bf16 weights; for f16 weights, times {@link Half#F16_SCALE}
     * ({@link Activation#halfScaled}), which makes every product the same float as the plain one.
     */
    static float dot(MemorySegment w, long off, float[] x, int n, boolean bf16) {
        FloatVector lo = FloatVector.zero(F8), hi = FloatVector.zero(F8);
        int i = 0;
        for (; i + LANES <= n; i += LANES) {
            lo = load(w, off + 2L * i, bf16).fma(FloatVector.fromArray(F8, x, i), lo);
            hi = load(w, off + 2L * (i + 8), bf16).fma(FloatVector.fromArray(F8, x, i + 8), hi);
        }
        return VectorMath.hsum8(lo.add(hi)) + tail(w, off, x, i, n, bf16, !bf16);
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
}
