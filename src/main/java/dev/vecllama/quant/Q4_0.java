package dev.vecllama.quant;

import dev.vecllama.activation.Activation;
import dev.vecllama.activation.ActivationKind;
import dev.vecllama.gguf.GGMLType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Blocks of 32 weights: an f16 scale d, then 16 bytes of 4-bit q; weight = d·(q − 8). Byte j holds
 * element j in its low nibble and element j + 16 in its high nibble. Paired with Q8_0 activations.
 *
 * <p>Float order: on x86 with AVX2, llama.cpp repacks Q4_0 matrices whose row count is a multiple of 8
 * (ggml_repack_get_optimal_repack_type → q4_0_8x8_q8_0) and multiplies them with
 * ggml_gemv/gemm_q4_0_8x8_q8_0, which give each output row one float lane: per block the exact int32
 * sum of its 32 products, then {@code acc = fma((float) isum, d_w·d_a, acc)}, blocks in order, and no
 * horizontal sum. Both paths below do exactly that; only the integer sums are computed differently.
 */
public final class Q4_0 implements WeightFormat {
    public static final Q4_0 INSTANCE = new Q4_0();

    static final int BLOCK = 32;
    static final int BLOCK_BYTES = 2 + BLOCK / 2;
    private static final int QS = 2;

    // A block's nibbles come in runs of 16 (low halves, then high halves), so the kernel works in at most
    // 16 lanes of 16 bits: 256-bit vectors even where 512 are preferred.
    private static final int BITS = Math.min(VectorMath.BITS, 256);
    private static final VectorSpecies<Byte> BYTES = VectorSpecies.of(byte.class, VectorShape.forBitSize(BITS / 2));
    private static final VectorSpecies<Short> SHORTS = VectorSpecies.of(short.class, VectorShape.forBitSize(BITS));
    private static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, VectorShape.forBitSize(BITS));
    private static final int L = SHORTS.length();
    private static final ShortVector LOW_NIBBLE = ShortVector.broadcast(SHORTS, (short) 0x0F);
    private static final ShortVector EIGHT = ShortVector.broadcast(SHORTS, (short) 8);

    private Q4_0() {}

    @Override
    public GGMLType type() {
        return GGMLType.Q4_0;
    }

    @Override
    public ActivationKind activationKind() {
        return ActivationKind.Q8_0;
    }

    /** Element j (0 ≤ j < 32) of the block at {@code o}, as its unsigned 4-bit code. */
    private static int code(MemorySegment w, long o, int j) {
        int q = w.get(ValueLayout.JAVA_BYTE, o + QS + (j & 15));
        return j < 16 ? q & 0x0F : (q >> 4) & 0x0F;
    }

    @Override
    public void dequantize(MemorySegment w, long offset, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            float d = Half.f16(w, o);
            for (int j = 0; j < BLOCK; j++) dst[dstOff + b * BLOCK + j] = d * (code(w, o, j) - 8);
        }
    }

    @Override
    public float dotReference(MemorySegment w, long offset, Activation a, int n) {
        float acc = 0;
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            int isum = 0;
            for (int j = 0; j < BLOCK; j++) isum += (code(w, o, j) - 8) * a.q[b * BLOCK + j];
            acc = Math.fma((float) isum, Half.f16(w, o) * a.scale[b], acc);
        }
        return acc;
    }

    @Override
    public float dot(MemorySegment w, long offset, Activation a, int n) {
        float acc = 0;
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            int i = b * BLOCK;
            // The (q − 8) × int8 products add up in 16-bit lanes: at most 4 per lane, each within 8·127.
            ShortVector p = run(w, o + QS, a.q, i);
            for (int c = L; c < 16; c += L) p = p.add(run(w, o + QS + c, a.q, i + c));
            // An integer sum: exact in any order.
            int isum = VectorMath.pairSum(p, INTS).reduceLanes(VectorOperators.ADD);
            acc = Math.fma((float) isum, Half.f16Head(w, o) * a.scale[b], acc);
        }
        return acc;
    }

    /** L bytes of a block from {@code off}: their low nibbles meet activations i.., their high nibbles i + 16... */
    private static ShortVector run(MemorySegment w, long off, byte[] q, int i) {
        ShortVector v = (ShortVector) ByteVector.fromMemorySegment(BYTES, w, off, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
        ShortVector lo = v.and(LOW_NIBBLE).sub(EIGHT), hi = v.lanewise(VectorOperators.LSHR, 4).sub(EIGHT);
        return lo.mul(VectorMath.widen(ByteVector.fromArray(BYTES, q, i), SHORTS))
                .add(hi.mul(VectorMath.widen(ByteVector.fromArray(BYTES, q, i + 16), SHORTS)));
    }
}
