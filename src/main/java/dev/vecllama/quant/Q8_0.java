package dev.vecllama.quant;

import static dev.vecllama.quant.VectorMath.F8;
import static dev.vecllama.quant.VectorMath.S16;

import dev.vecllama.activation.Activation;
import dev.vecllama.activation.ActivationKind;
import dev.vecllama.gguf.GGMLType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;

/**
 * Blocks of 32 weights: an f16 scale d, then 32 int8 q; weight = d·q. Paired with Q8_0 activations.
 *
 * <p>Float order: llama.cpp's x86 Q8_0 × Q8_0 matmul runs through llamafile's tinyBLAS_Q0_AVX. Per
 * output it keeps 8 float lanes; for each block, lane l takes the int32 sum of the 4 products of
 * elements 4l .. 4l + 3 and does {@code acc[l] = fma(d_w·d_a, isum_l, acc[l])}, blocks in order; the
 * result is {@link VectorMath#hsum8} of the lanes. Both paths below compute exactly that, so they agree
 * bit for bit with each other and with llama.cpp.
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
        float[] acc = new float[8];
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            float d = Half.f16(w, o) * a.scale[b];
            for (int l = 0; l < 8; l++) {
                int isum = 0;
                for (int j = 4 * l; j < 4 * l + 4; j++) isum += w.get(ValueLayout.JAVA_BYTE, o + QS + j) * a.q[b * BLOCK + j];
                acc[l] = Math.fma(d, (float) isum, acc[l]);
            }
        }
        return VectorMath.hsum8(acc);
    }

    @Override
    public float dot(MemorySegment w, long offset, Activation a, int n) {
        FloatVector acc = FloatVector.zero(F8);
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            ShortVector q = ShortVector.fromMemorySegment(S16, w, o + QS, ByteOrder.LITTLE_ENDIAN);
            IntVector isum = VectorMath.quadSums(VectorMath.evenInt8(q), VectorMath.oddInt8(q), VectorMath.int8Pairs(a.q, b * BLOCK));
            acc = VectorMath.toFloat8(isum).fma(FloatVector.broadcast(F8, Half.f16Head(w, o) * a.scale[b]), acc);
        }
        return VectorMath.hsum8(acc);
    }
}
