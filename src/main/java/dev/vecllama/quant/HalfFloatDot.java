package dev.vecllama.quant;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float dot product {@link F16} and {@link BF16} share: widen each 16-bit weight to f32 and FMA it
 * against the activation, already rounded to the same precision. {@code bf16} is a constant at both
 * call sites; where C2 compiles the loop on its own the test is loop-invariant and unswitched.
 */
final class HalfFloatDot {
    private HalfFloatDot() {}

    private static final VectorSpecies<Float> F = VectorMath.FLOATS;
    private static final int L = F.length();

    static float dot(MemorySegment w, long off, float[] x, int n, boolean bf16) {
        // Two accumulators hide the FMA latency.
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            acc0 = load(w, off + 2L * i, bf16).fma(FloatVector.fromArray(F, x, i), acc0);
            acc1 = load(w, off + 2L * (i + L), bf16).fma(FloatVector.fromArray(F, x, i + L), acc1);
        }
        for (; i + L <= n; i += L) acc0 = load(w, off + 2L * i, bf16).fma(FloatVector.fromArray(F, x, i), acc0);
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD) + tail(w, off, x, i, n, bf16);
    }

    private static FloatVector load(MemorySegment w, long off, boolean bf16) {
        return bf16 ? Half.bf16s(w, off) : Half.f16s(w, off);
    }

    /** Scalar reference and vector tail alike: the plain sum of products from element i on. */
    static float tail(MemorySegment w, long off, float[] x, int i, int n, boolean bf16) {
        float s = 0;
        for (; i < n; i++) s += (bf16 ? Half.bf16(w, off + 2L * i) : Half.f16(w, off + 2L * i)) * x[i];
        return s;
    }
}
