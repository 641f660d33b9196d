package dev.vecllama.quant;

import static dev.vecllama.quant.VectorMath.FLOATS;
import static dev.vecllama.quant.VectorMath.INTS;
import static dev.vecllama.quant.VectorMath.LOW_NIBBLE;
import static dev.vecllama.quant.VectorMath.SHORTS;

import dev.vecllama.activation.Activation;
import dev.vecllama.activation.ActivationKind;
import dev.vecllama.gguf.GGMLType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Super-blocks of 256 weights in 16 groups of 16: ql[128] (low 4 bits), qh[64] (high 2 bits), int8
 * scales[16], then f16 d. Weight = d·scale[g]·(q − 32) with q in 0..63.
 *
 * <p>Each half of 128 weights uses 64 bytes of ql and 32 of qh. Its element l + 32r (r = 0..3, l < 32)
 * takes its low 4 bits from the low (r = 0, 1) or high (r = 2, 3) nibble of ql[l + 32·(r mod 2)] and
 * its high 2 bits from bits 2r, 2r + 1 of qh[l]. Paired with Q8_K activations.
 */
public final class Q6_K implements WeightFormat {
    public static final Q6_K INSTANCE = new Q6_K();

    static final int BLOCK = 256;
    static final int BLOCK_BYTES = 210;
    private static final int QL = 0, QH = 128, SCALES = 192, D = 208;

    private static final VectorMask<Integer> SECOND_GROUP = VectorMask.fromLong(INTS, -1L << 8);

    private static final ShortVector TWO_BITS = ShortVector.broadcast(SHORTS, (short) 3);
    private static final ShortVector OFFSET = ShortVector.broadcast(SHORTS, (short) 32);

    private Q6_K() {}

    @Override
    public GGMLType type() {
        return GGMLType.Q6_K;
    }

    @Override
    public ActivationKind activationKind() {
        return ActivationKind.Q8_K;
    }

    /** Element j (0 ≤ j < 256) of the super-block at {@code o}, as its unsigned 6-bit code. */
    private static int code(MemorySegment w, long o, int j) {
        int half = j / 128, r = (j % 128) / 32, l = j % 32;
        int ql = w.get(ValueLayout.JAVA_BYTE, o + QL + 64 * half + l + 32 * (r & 1));
        int qh = w.get(ValueLayout.JAVA_BYTE, o + QH + 32 * half + l);
        return ((r < 2 ? ql : ql >> 4) & 0x0F) | (((qh >> (2 * r)) & 3) << 4);
    }

    private static int scale(MemorySegment w, long o, int g) {
        return w.get(ValueLayout.JAVA_BYTE, o + SCALES + g);
    }

    @Override
    public void dequantize(MemorySegment w, long offset, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            float d = Half.f16(w, o + D);
            for (int j = 0; j < BLOCK; j++) dst[dstOff + b * BLOCK + j] = d * scale(w, o, j / 16) * (code(w, o, j) - 32);
        }
    }

    @Override
    public float dotReference(MemorySegment w, long offset, Activation a, int n) {
        float s = 0;
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            int sum = 0;
            for (int g = 0; g < 16; g++) {
                int isum = 0;
                for (int j = 16 * g; j < 16 * g + 16; j++) isum += (code(w, o, j) - 32) * a.q[b * BLOCK + j];
                sum += scale(w, o, g) * isum;
            }
            s += Half.f16(w, o + D) * a.scale[b] * sum;
        }
        return s;
    }

    @Override
    public float dot(MemorySegment w, long offset, Activation a, int n) {
        FloatVector acc = FloatVector.zero(FLOATS);
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            IntVector isum = IntVector.zero(INTS);
            for (int e = 0; e < BLOCK; e += SHORTS.length()) isum = isum.add(run(w, o, a.q, b * BLOCK, e));
            acc = VectorMath.toFloat(isum).fma(FloatVector.broadcast(FLOATS, Half.f16(w, o + D) * a.scale[b]), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** scale·(q − 32)·a for the SHORTS.length() elements from e (which share one quarter), in int lanes. */
    private static IntVector run(MemorySegment w, long o, byte[] q, int i, int e) {
        int half = e / 128, r = (e % 128) / 32, l = e % 32;
        ShortVector ql = VectorMath.uint8(w, o + QL + 64 * half + 32 * (r & 1) + l);
        ShortVector qh = VectorMath.uint8(w, o + QH + 32 * half + l);
        ShortVector q6 = ql.lanewise(VectorOperators.LSHR, 4 * (r >> 1)).and(LOW_NIBBLE)
                .or(qh.lanewise(VectorOperators.LSHR, 2 * r).and(TWO_BITS).lanewise(VectorOperators.LSHL, 4));
        IntVector sc = IntVector.broadcast(INTS, scale(w, o, e / 16));
        // At 512 bits the lanes span two groups of 16; the second half takes the next scale.
        if (SHORTS.length() > 16) sc = sc.blend(IntVector.broadcast(INTS, scale(w, o, e / 16 + 1)), SECOND_GROUP);
        return VectorMath.pairSum(q6.sub(OFFSET).mul(VectorMath.int8(q, i + e))).mul(sc);
    }
}
