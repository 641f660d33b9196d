package dev.vecllama.quant;

import static dev.vecllama.quant.VectorMath.F8;
import static dev.vecllama.quant.VectorMath.I8;

import dev.vecllama.activation.Activation;
import dev.vecllama.activation.ActivationKind;
import dev.vecllama.gguf.GGMLType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Blocks of 32 weights: an f16 scale d, then 16 bytes of 4-bit q; weight = d·(q − 8). Byte j holds
 * element j in its low nibble and element j + 16 in its high nibble. Paired with Q8_0 activations.
 *
 * <p>Float order: 8 float lanes per row. Lane m takes, per block, the exact int32 sum of the products
 * of elements 2m, 2m + 1, 2m + 16 and 2m + 17 (where a byte's two nibbles and their neighbours meet in
 * the vector path) and does {@code acc[m] = fma((float) sum, d_w·d_a, acc[m])}, blocks in order; the
 * result is {@link VectorMath#hsum8}. llama.cpp's repacked gemv keeps one lane per row instead, which
 * would cost a horizontal sum per block of 32: the orders differ by float rounding only (the
 * reference tests' tolerances), and both paths below agree bit for bit.
 */
public final class Q4_0 implements RowKernel, LaneKernel {
    public static final Q4_0 INSTANCE = new Q4_0();

    static final int BLOCK = 32;
    static final int BLOCK_BYTES = 2 + BLOCK / 2;
    private static final int QS = 2;

    // A block's 16 bytes widen into one vector of 16 shorts: 256-bit vectors at every width, as the
    // 8-lane float order above needs.
    private static final VectorSpecies<Byte> BYTES = ByteVector.SPECIES_128;
    private static final VectorSpecies<Short> SHORTS = VectorMath.S16;
    private static final ShortVector LOW_NIBBLE = ShortVector.broadcast(SHORTS, (short) 0x0F);
    private static final ShortVector EIGHT = ShortVector.broadcast(SHORTS, (short) 8);
    private static final ByteVector NIBBLE = ByteVector.broadcast(VectorMath.B8, (byte) 0x0F);
    private static final FloatVector EIGHT_F = FloatVector.broadcast(F8, 8f);

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
        float[] acc = new float[8];
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            float d = Half.f16(w, o) * a.scale[b];
            // The block's 16 bytes in two reads: this runs for real until the vector kernels are
            // compiled, and a read from a mapped file per code was most of a first long prompt.
            long low = w.get(LittleEndian.LONG, o + QS), high = w.get(LittleEndian.LONG, o + QS + 8);
            for (int m = 0; m < 8; m++) {
                // Bytes 2m and 2m + 1 (code()'s layout): codes 2m, 2m + 1 in their low nibbles, 2m + 16, 2m + 17 in their high.
                int two = (int) ((m < 4 ? low : high) >>> 16 * (m & 3));
                int x = b * BLOCK + 2 * m;
                int isum = ((two & 0x0F) - 8) * a.q[x] + ((two >> 8 & 0x0F) - 8) * a.q[x + 1]
                        + ((two >> 4 & 0x0F) - 8) * a.q[x + 16] + ((two >> 12 & 0x0F) - 8) * a.q[x + 17];
                acc[m] = Math.fma((float) isum, d, acc[m]);
            }
        }
        return VectorMath.hsum8(acc);
    }

    @Override
    public void dotRows(MemorySegment w, long offset, long rowBytes, Activation a, int n, float[] out, int r0, int r1) {
        int d = RowKernel.pairDistance(r0, r1);
        for (int r = r0; r < r0 + d; r++) {
            int r2 = RowKernel.partner(r, d, r1);
            long o = offset + r * rowBytes, o2 = offset + r2 * rowBytes;
            FloatVector acc = FloatVector.zero(F8), acc2 = acc;
            for (int b = 0; b < n / BLOCK; b++, o += BLOCK_BYTES, o2 += BLOCK_BYTES) {
                int i = b * BLOCK;
                ShortVector x = ShortVector.fromArray(SHORTS, a.wide, i), x16 = ShortVector.fromArray(SHORTS, a.wide, i + 16);
                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(BYTES, w, o + QS, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
                ShortVector v2 = (ShortVector) ByteVector.fromMemorySegment(BYTES, w, o2 + QS, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
                // Lane k: element k (low nibble) and element k + 16 (high nibble), each (q − 8)·a within 8·127.
                ShortVector p = v.and(LOW_NIBBLE).sub(EIGHT).mul(x).add(v.lanewise(VectorOperators.LSHR, 4).sub(EIGHT).mul(x16));
                ShortVector p2 = v2.and(LOW_NIBBLE).sub(EIGHT).mul(x).add(v2.lanewise(VectorOperators.LSHR, 4).sub(EIGHT).mul(x16));
                acc = VectorMath.toFloat8(VectorMath.pairSum8(p)).fma(FloatVector.broadcast(F8, Half.f16Head(w, o) * a.scale[b]), acc);
                acc2 = VectorMath.toFloat8(VectorMath.pairSum8(p2)).fma(FloatVector.broadcast(F8, Half.f16Head(w, o2) * a.scale[b]), acc2);
            }
            out[r] = VectorMath.hsum8(acc);
            out[r2] = VectorMath.hsum8(acc2);
        }
    }

    /** Accumulator m of a block takes elements 2m, 2m + 1, 2m + 16, 2m + 17 (see the class comment). */
    private static final int[] LANE_ORDER = java.util.stream.IntStream.range(0, BLOCK).map(i -> 2 * (i / 4) + (i & 1) + 16 * ((i / 2) & 1)).toArray();

    /** Lane t follows {@link #dot} for token t, with Q8_0's lane kernel in this format's element order. */
    @Override
    public void matmul(MemorySegment w, long rowBytes, int cols, TokenLanes x, float[][] out, int r0, int r1) {
        x.matmulGroupPairs(w, rowBytes, cols, cols / BLOCK, 1, out, r0, r1, Q4_0::unpackRow,
                (t, g, n, o, r, last) -> Q8_0.dotLaneQuads(t, g, g + 1, n, o, r, last, LANE_ORDER), (t, g, n, o, r, last) -> Q8_0.dotLaneQuads(t, g, g, n, o, r, last, LANE_ORDER));
    }

    /** A row's weights as floats q − 8 into {@code wf[o ..]}, its block scales into {@code d[od ..]}. */
    private static void unpackRow(MemorySegment w, long off, int blocks, float[] wf, int o, float[] d, int od) {
        for (int b = 0; b < blocks; b++) {
            long p = off + (long) b * BLOCK_BYTES;
            d[od + b] = Half.f16Head(w, p);
            for (int c = 0; c < BLOCK / 2; c += VectorMath.B8.length()) {
                ByteVector q = ByteVector.fromMemorySegment(VectorMath.B8, w, p + QS + c, ByteOrder.LITTLE_ENDIAN);
                ((FloatVector) q.and(NIBBLE).convertShape(VectorOperators.B2F, F8, 0)).sub(EIGHT_F).intoArray(wf, o + b * BLOCK + c);
                ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).convertShape(VectorOperators.B2F, F8, 0)).sub(EIGHT_F).intoArray(wf, o + b * BLOCK + 16 + c);
            }
        }
    }
}
