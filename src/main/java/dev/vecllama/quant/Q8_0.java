package dev.vecllama.quant;

import static dev.vecllama.quant.VectorMath.FLOATS;
import static dev.vecllama.quant.VectorMath.SHORTS;

import dev.vecllama.activation.Activation;
import dev.vecllama.activation.ActivationKind;
import dev.vecllama.gguf.GGMLType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Blocks of 32 weights: an f16 scale d, then 32 int8 q; weight = d·q. Paired with Q8_0 activations,
 * a block's dot is one int32 sum of 32 int8 products, scaled once by d_w·d_a.
 */
public final class Q8_0 implements WeightFormat {
    public static final Q8_0 INSTANCE = new Q8_0();

    static final int BLOCK = 32;
    static final int BLOCK_BYTES = 2 + BLOCK;
    private static final int QS = 2;

    private Q8_0() {}

    @Override
    public GGMLType type() {
        return GGMLType.Q8_0;
    }

    @Override
    public ActivationKind activationKind() {
        return ActivationKind.Q8_0;
    }

    @Override
    public void dequantize(MemorySegment w, long offset, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            float d = Half.f16(w, o);
            for (int j = 0; j < BLOCK; j++) dst[dstOff + b * BLOCK + j] = d * w.get(ValueLayout.JAVA_BYTE, o + QS + j);
        }
    }

    @Override
    public float dotReference(MemorySegment w, long offset, Activation a, int n) {
        float s = 0;
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            int isum = 0;
            for (int j = 0; j < BLOCK; j++) isum += w.get(ValueLayout.JAVA_BYTE, o + QS + j) * a.q[b * BLOCK + j];
            s += isum * (Half.f16(w, o) * a.scale[b]);
        }
        return s;
    }

    @Override
    public float dot(MemorySegment w, long offset, Activation a, int n) {
        FloatVector acc = FloatVector.zero(FLOATS);
        for (int b = 0; b < n / BLOCK; b++) acc = block(w, offset + (long) b * BLOCK_BYTES, a, b, acc);
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * acc + d_w·d_a·(the block's int8 products, summed into int32 lanes). Two products of an int8
     * weight and an activation in [-127, 127] stay below 2^15, so pairs add up in 16-bit lanes first.
     */
    private static FloatVector block(MemorySegment w, long o, Activation a, int b, FloatVector acc) {
        int i = b * BLOCK, l = SHORTS.length();
        long q = o + QS;
        ShortVector p = VectorMath.int8(w, q).mul(VectorMath.int8(a.q, i));
        if (l < 32) p = p.add(VectorMath.int8(w, q + l).mul(VectorMath.int8(a.q, i + l)));
        IntVector isum = VectorMath.pairSum(p);
        if (l < 16) {
            ShortVector p2 = VectorMath.int8(w, q + 2 * l).mul(VectorMath.int8(a.q, i + 2 * l))
                    .add(VectorMath.int8(w, q + 3 * l).mul(VectorMath.int8(a.q, i + 3 * l)));
            isum = isum.add(VectorMath.pairSum(p2));
        }
        return VectorMath.toFloat(isum).fma(FloatVector.broadcast(FLOATS, Half.f16(w, o) * a.scale[b]), acc);
    }
}
