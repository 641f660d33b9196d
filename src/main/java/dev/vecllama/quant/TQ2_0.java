package dev.vecllama.quant;

import dev.vecllama.activation.Activation;
import dev.vecllama.gguf.GGMLType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * BitNet b1.58 ternary weights at 2 bits each (2.06 bits per weight): blocks of 256 as qs[64], then
 * f16 d. Each half of 128 weights is one 32-byte run of qs: element 32l + m of the half is bits 2l,
 * 2l + 1 of byte m, a code in {0, 1, 2} for the weight d·(code − 1). So chunk c (32 weights) is the
 * bit pair c mod 4 of run c / 4, and its position m is byte m of that run.
 */
public final class TQ2_0 extends Ternary implements RowKernel, LaneKernel {
    public static final TQ2_0 INSTANCE = new TQ2_0();

    static final int BLOCK_BYTES = 66;
    static final int D = 64;

    private static final ShortVector TWO_BITS = ShortVector.broadcast(SHORTS, (short) 3);
    private static final ByteVector CODE_BITS = ByteVector.broadcast(VectorMath.B8, (byte) 3);

    private TQ2_0() {
        super(BLOCK_BYTES, D);
    }

    @Override
    public GGMLType type() {
        return GGMLType.TQ2_0;
    }

    @Override
    int code(MemorySegment w, long o, int j) {
        int run = j / 128, l = (j % 128) / 32, m = j % 32;
        return (w.get(ValueLayout.JAVA_BYTE, o + 32 * run + m) >> (2 * l)) & 3;
    }

    /**
     * For positions v·L .. v·L + L − 1 of every chunk: Σ over the 8 chunks of code·a, per position, in
     * 16-bit lanes (at most 8·2·127 in magnitude). {@code i} is the block's first activation index.
     */
    private static ShortVector positions(MemorySegment w, long o, short[] q, int i, int v) {
        ShortVector s = ShortVector.zero(SHORTS);
        for (int run = 0; run < 2; run++) {
            ShortVector bytes = uint8(w, o + 32 * run + v * L);
            for (int l = 0; l < 4; l++) {
                ShortVector codes = bytes.lanewise(VectorOperators.LSHR, 2 * l).and(TWO_BITS);
                s = s.add(codes.mul(ShortVector.fromArray(SHORTS, q, i + 128 * run + 32 * l + v * L)));
            }
        }
        return s;
    }

    @Override
    public void dotRows(MemorySegment w, long offset, long rowBytes, Activation a, int n, float[] out, int r0, int r1) {
        if (VectorMath.BITS == 512) {
            dotRowsWide(w, offset, rowBytes, a, n, out, r0, r1);
        } else {
            for (int r = r0; r < r1; r++) out[r] = dotNarrow(w, offset + r * rowBytes, a, n);
        }
    }

    // At 512 bits each block is 8 multiplies of whole chunks and one fold: 12% faster than two
    // 256-bit position vectors (a 512-bit operation costs about two 256-bit ones on Zen 4, so the
    // gain is in the fewer folds and instructions).
    private static final ShortVector WIDE_TWO_BITS = ShortVector.broadcast(WIDE, (short) 3);

    /** The 512-bit path ({@link Ternary#accumulateWide}): short lane m sums position m of all 8 chunks. */
    private static void dotRowsWide(MemorySegment w, long offset, long rowBytes, Activation a, int n, float[] out, int r0, int r1) {
        float[] lanes = new float[WIDE_FLOATS.length()];
        for (int r = r0; r < r1; r++) {
            FloatVector acc = FloatVector.zero(WIDE_FLOATS);
            for (int b = 0; b < n / BLOCK; b++) {
                long o = offset + r * rowBytes + (long) b * BLOCK_BYTES;
                int i = b * BLOCK;
                ShortVector s = ShortVector.zero(WIDE);
                for (int run = 0; run < 2; run++) {
                    ShortVector bytes = (ShortVector) ByteVector.fromMemorySegment(WIDE_BYTES, w, o + 32 * run, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, WIDE, 0);
                    for (int l = 0; l < 4; l++) {
                        ShortVector codes = bytes.lanewise(VectorOperators.LSHR, 2 * l).and(WIDE_TWO_BITS);
                        s = s.add(codes.mul(ShortVector.fromArray(WIDE, a.wide, i + 128 * run + 32 * l)));
                    }
                }
                acc = accumulateWide(s, a, b, Half.f16Tail(w, o + D), acc);
            }
            acc.intoArray(lanes, 0);
            out[r] = sumWide(lanes);
        }
    }

    /**
     * At 256 and 128 bits. Position vector v (v < ACCS) gives llama.cpp's lanes m = v·L/4 + k at
     * lanes 2k of accumulator v, and position vector v + ACCS gives lanes m + 4 at lanes 2k + 1 of
     * accumulator v + ACCS; the other lanes hold partial sums nobody reads. One position vector per
     * loop iteration keeps the kernel within C2's inlining budget (see {@link VectorMath}).
     */
    static float dotNarrow(MemorySegment w, long offset, Activation a, int n) {
        FloatVector acc0 = FloatVector.zero(FLOATS), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            FloatVector d = FloatVector.broadcast(FLOATS, Half.f16Tail(w, o + D) * a.scale[b]);
            for (int v = 0; v < NV; v++) {
                IntVector p = pairSum(positions(w, o, a.wide, b * BLOCK, v)).sub(partialSums(a.sums, b, v));
                FloatVector f = (FloatVector) foldPairs(p, v < ACCS ? 32 : -32).convertShape(VectorOperators.I2F, FLOATS, 0);
                // NV is a constant, so at 256 bits C2 parses only the two-accumulator arm.
                if (NV == 2) {
                    if (v == 0) acc0 = f.fma(d, acc0);
                    else acc1 = f.fma(d, acc1);
                } else {
                    switch (v) {
                        case 0 -> acc0 = f.fma(d, acc0);
                        case 1 -> acc1 = f.fma(d, acc1);
                        case 2 -> acc2 = f.fma(d, acc2);
                        default -> acc3 = f.fma(d, acc3);
                    }
                }
            }
        }
        // Lanes m and m + 4 of llama.cpp's 8, added first: (0+4), (1+5), (2+6), (3+7).
        float s0, s1, s2, s3;
        if (ACCS == 1) {
            s0 = acc0.lane(0) + acc1.lane(1);
            s1 = acc0.lane(2) + acc1.lane(3);
            s2 = acc0.lane(4) + acc1.lane(5);
            s3 = acc0.lane(6) + acc1.lane(7);
        } else {
            s0 = acc0.lane(0) + acc2.lane(1);
            s1 = acc0.lane(2) + acc2.lane(3);
            s2 = acc1.lane(0) + acc3.lane(1);
            s3 = acc1.lane(2) + acc3.lane(3);
        }
        return (s0 + s2) + (s1 + s3);
    }

    /**
     * The activation partial sums for position vector v, one per int lane: after the pair sums, int
     * lane j covers positions v·L + 2j, +1, which belong to partial sum v·L/2 + j's lane.
     */
    private static IntVector partialSums(short[] sums, int b, int v) {
        return (IntVector) ShortVector.fromArray(SUMS, sums, b * 16 + v * L / 2).convertShape(VectorOperators.S2I, INTS, 0);
    }

    /**
     * Each pair of int lanes (one long) holds two halves of a lane's four positions: their sum, in the
     * low int ({@code shift} 32) or the high int ({@code shift} −32, a left shift). One call site for
     * both keeps the kernel within C2's node budget.
     */
    private static IntVector foldPairs(IntVector p, int shift) {
        LongVector l = (LongVector) p.reinterpretShape(LONGS, 0);
        return p.add((IntVector) (shift > 0 ? l.lanewise(VectorOperators.LSHR, 32) : l.lanewise(VectorOperators.LSHL, 32)).reinterpretShape(INTS, 0));
    }

    /** {@link VectorMath#pairSum} at this class's width (see {@link VectorMath} on why each width has its own). */
    private static IntVector pairSum(ShortVector p) {
        IntVector x = (IntVector) p.reinterpretShape(INTS, 0);
        return x.lanewise(VectorOperators.ASHR, 16).add(x.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
    }

    /** Lane t follows {@link #dot} for token t: {@link Ternary#dotPairLanes} on the codes. */
    @Override
    public void matmul(MemorySegment w, long rowBytes, int cols, TokenLanes x, float[][] out, int r0, int r1) {
        x.matmulPairs(w, rowBytes, cols, cols / BLOCK, 1, out, r0, r1, TQ2_0::unpackRow, Ternary::pairLanes);
    }

    /** A row's codes (0, 1, 2) as floats into {@code wf[o ..]}, each block's d into {@code d[od ..]}. */
    static void unpackRow(MemorySegment w, long off, int blocks, float[] wf, int o, float[] d, int od) {
        for (int b = 0; b < blocks; b++) {
            long p = off + (long) b * BLOCK_BYTES;
            d[od + b] = Half.f16Tail(w, p + D);
            for (int run = 0; run < 2; run++) {
                for (int k = 0; k < CHUNK; k += VectorMath.B8.length()) {
                    ByteVector q = ByteVector.fromMemorySegment(VectorMath.B8, w, p + 32 * run + k, ByteOrder.LITTLE_ENDIAN);
                    for (int l = 0; l < 4; l++) {
                        ((FloatVector) q.lanewise(VectorOperators.LSHR, 2 * l).and(CODE_BITS).convertShape(VectorOperators.B2F, VectorMath.F8, 0))
                                .intoArray(wf, o + b * BLOCK + 128 * run + 32 * l + k);
                    }
                }
            }
        }
    }
}
