package dev.vecllama.quant;

import static dev.vecllama.quant.VectorMath.INTS;
import static dev.vecllama.quant.VectorMath.LOW_NIBBLE;
import static dev.vecllama.quant.VectorMath.SHORTS;

import dev.vecllama.activation.Activation;
import dev.vecllama.activation.ActivationKind;
import dev.vecllama.gguf.GGMLType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Super-blocks of 256 weights in 8 sub-blocks of 32: f16 d, f16 dmin, 12 bytes packing a 6-bit scale
 * and a 6-bit min per sub-block, then 128 bytes of nibbles. Weight = d·sc·q − dmin·m. Each 32-byte run
 * of nibbles covers 64 weights: low nibbles are sub-block 2k, high nibbles sub-block 2k + 1.
 *
 * <p>Paired with Q8_K activations, a super-block's dot is d·d_a·Σ sc·(Σ q·a) − dmin·d_a·Σ m·(Σ a):
 * the second sum comes from the activation's per-16 partial sums, so the minimums cost nothing per
 * element.
 *
 * <p>Float order: on x86 with AVX2, llama.cpp repacks Q4_K matrices whose row count is a multiple of 8
 * (q4_K_8x8_q8_K) and multiplies them with ggml_gemv/gemm_q4_K_8x8_q8_K, which give each output row
 * two float lanes: {@code acc = fma((float) Σ sc·(Σ q·a), d·d_a, acc)} and
 * {@code accMin = fma((float) Σ m·(Σ a), dmin·d_a, accMin)}, in order; the result is
 * {@code acc − accMin}. The gemv (a lone row, and a batch's last {@code rows % 4}) takes one step per
 * super-block; the gemm (a batch's complete groups of 4 rows, {@link Activation#quad}) one step per
 * pair of sub-blocks, four per super-block. Both paths below do exactly that; the integer sums are
 * exact in any order.
 */
public final class Q4_K implements WeightFormat {
    public static final Q4_K INSTANCE = new Q4_K();

    static final int BLOCK = 256;
    static final int BLOCK_BYTES = 144;
    private static final int D = 0, DMIN = 2, SCALES = 4, QS = 16;
    private static final VectorSpecies<Integer> HEADER = IntVector.SPECIES_128;
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Q4_K() {}

    @Override
    public GGMLType type() {
        return GGMLType.Q4_K;
    }

    @Override
    public ActivationKind activationKind() {
        return ActivationKind.Q8_K;
    }

    /**
     * The 8 scales (low int: sub-blocks 0..3, high int: 4..7, one per byte) or the 8 minimums, unpacked
     * from the 12 bytes at {@code o + SCALES}. Bytes 0..3 hold scales 0..3 in their low 6 bits, bytes
     * 4..7 minimums 0..3; bytes 8..11 hold the low 4 bits of scale (low nibble) and min (high nibble)
     * 4..7, whose top 2 bits sit in the top 2 bits of bytes 0..3 (scales) and 4..7 (minimums).
     */
    static long sixBit(MemorySegment w, long o, boolean mins) {
        return sixBit(w.get(LE_INT, o + SCALES), w.get(LE_INT, o + SCALES + 4), w.get(LE_INT, o + SCALES + 8), mins);
    }

    /** {@link #sixBit(MemorySegment, long, boolean)} of the 12 bytes as three little-endian ints. */
    private static long sixBit(int u0, int u1, int u2, boolean mins) {
        int first = mins ? u1 : u0;
        int low = first & 0x3F3F3F3F;
        int high = ((mins ? u2 >>> 4 : u2) & 0x0F0F0F0F) | (((first >>> 6) & 0x03030303) << 4);
        return (low & 0xFFFFFFFFL) | ((long) high << 32);
    }

    private static int sub(long packed, int j) {
        return (int) (packed >>> (8 * j)) & 0xFF;
    }

    /** Element j (0 ≤ j < 256) of the super-block at {@code o}, as its unsigned 4-bit code. */
    private static int code(MemorySegment w, long o, int j) {
        int q = w.get(ValueLayout.JAVA_BYTE, o + QS + 32 * (j / 64) + (j & 31));
        return (j & 32) == 0 ? q & 0x0F : (q >> 4) & 0x0F;
    }

    @Override
    public void dequantize(MemorySegment w, long offset, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            float d = Half.f16(w, o + D), dmin = Half.f16(w, o + DMIN);
            long sc = sixBit(w, o, false), m = sixBit(w, o, true);
            for (int j = 0; j < BLOCK; j++) {
                dst[dstOff + b * BLOCK + j] = d * sub(sc, j / 32) * code(w, o, j) - dmin * sub(m, j / 32);
            }
        }
    }

    /** Sub-blocks summed per float step: 8 in llama.cpp's gemv, 2 in its 4-row gemm. */
    private static int step(Activation a) {
        return a.quad() ? 2 : 8;
    }

    @Override
    public float dotReference(MemorySegment w, long offset, Activation a, int n) {
        float acc = 0, accMin = 0;
        int step = step(a);
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            for (int j = 0; j < 8; j += step) {
                acc = Math.fma((float) scaledSum(w, o, a, b, j, j + step), Half.f16(w, o + D) * a.scale[b], acc);
                accMin = Math.fma((float) minSum(sixBit(w, o, true), a, b, j, j + step), Half.f16(w, o + DMIN) * a.scale[b], accMin);
            }
        }
        return acc - accMin;
    }

    /** Σ over sub-blocks j0 ≤ j < j1 of sc · (Σ q·a), in exact integers. */
    private static int scaledSum(MemorySegment w, long o, Activation a, int b, int j0, int j1) {
        long sc = sixBit(w, o, false);
        int s = 0;
        for (int j = j0; j < j1; j++) {
            int isum = 0;
            for (int l = 32 * j; l < 32 * j + 32; l++) isum += code(w, o, l) * a.q[b * BLOCK + l];
            s += sub(sc, j) * isum;
        }
        return s;
    }

    /** Σ over sub-blocks j0 ≤ j < j1 of m · (Σ a), from the activation's partial sums of 16. */
    private static int minSum(long m, Activation a, int b, int j0, int j1) {
        int s = 0;
        for (int j = j0; j < j1; j++) s += sub(m, j) * (a.sums[b * 16 + 2 * j] + a.sums[b * 16 + 2 * j + 1]);
        return s;
    }

    @Override
    public float dot(MemorySegment w, long offset, Activation a, int n) {
        float acc = 0, accMin = 0;
        int step = step(a);
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            // The 16-byte header (d, dmin, the packed scales) in one vector read: scalar reads from
            // the mapped file cost several times a vector read in this loop.
            IntVector header = IntVector.fromMemorySegment(HEADER, w, o, ByteOrder.LITTLE_ENDIAN);
            int dd = header.lane(0), u0 = header.lane(1), u1 = header.lane(2), u2 = header.lane(3);
            float d = Float.float16ToFloat((short) dd) * a.scale[b], dmin = Float.float16ToFloat((short) (dd >>> 16)) * a.scale[b];
            long sc = sixBit(u0, u1, u2, false), m = sixBit(u0, u1, u2, true);
            int i = b * BLOCK;
            IntVector isum = IntVector.zero(INTS);
            for (int j = 0; j < 8; j += 2) {
                // Sub-blocks j and j + 1 share the 32 bytes at QS + 16·j: low nibbles, then high nibbles;
                // each byte is loaded once for both. Nibble × int8 products stay within 15·127, so up to
                // 4 runs add up in 16 bits.
                long qs = o + QS + 16 * j;
                int x = i + 32 * j;
                ShortVector low = ShortVector.zero(SHORTS), high = low;
                for (int c = 0; c < 32; c += SHORTS.length()) {
                    ShortVector q = VectorMath.uint8(w, qs + c);
                    low = low.add(q.and(LOW_NIBBLE).mul(VectorMath.int8(a.q, x + c)));
                    high = high.add(q.lanewise(VectorOperators.LSHR, 4).mul(VectorMath.int8(a.q, x + 32 + c)));
                }
                isum = isum.add(VectorMath.pairSum(low).mul(IntVector.broadcast(INTS, sub(sc, j))))
                        .add(VectorMath.pairSum(high).mul(IntVector.broadcast(INTS, sub(sc, j + 1))));
                if ((j + 2) % step == 0) {
                    acc = Math.fma((float) isum.reduceLanes(VectorOperators.ADD), d, acc);
                    accMin = Math.fma((float) minSum(m, a, b, j + 2 - step, j + 2), dmin, accMin);
                    isum = IntVector.zero(INTS);
                }
            }
        }
        return acc - accMin;
    }
}
