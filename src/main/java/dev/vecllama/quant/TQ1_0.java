package dev.vecllama.quant;

import dev.vecllama.activation.Activation;
import dev.vecllama.gguf.GGMLType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

/**
 * BitNet b1.58 ternary weights in base 3 (1.69 bits per weight): blocks of 256 as qs[48] with 5
 * trits per byte, qh[4] with 4 trits per byte, then f16 d. A byte holding trits t0..tk (t0 most
 * significant) stores ⌈(Σ t·3^(k−i))·256 / 3^(k+1)⌉, a fixed-point fraction of 1, so trit n comes out
 * of the top of the byte after n multiplications by 3: ((byte·3^n mod 256)·3) >> 8.
 *
 * <p>Element order: qs[0..31] hold elements 32n + m (trit n, n < 5) — chunks 0..4; qs[32..47] hold
 * elements 160 + 16n + m — the two halves of chunks 5, 6 and the first half of chunk 7; qh[j] holds
 * elements 240 + 4n + j — the second half of chunk 7.
 */
public final class TQ1_0 extends Ternary implements RowKernel, LaneKernel {
    public static final TQ1_0 INSTANCE = new TQ1_0();

    static final int BLOCK_BYTES = 54;
    static final int QS = 0, QS_TAIL = 32, QH = 48;
    private static final int D = 52;
    private static final int[] POW3 = {1, 3, 9, 27, 81};

    private static final ShortVector THREE = ShortVector.broadcast(SHORTS, (short) 3);
    private static final ShortVector LOW_BYTE = ShortVector.broadcast(SHORTS, (short) 0xFF);
    private static final ShortVector POW3_4 = ShortVector.broadcast(SHORTS, (short) 81);
    /** Lane j of the block's last 16 bytes (qh at 10..13, d at 14, 15) → qh[j mod 4]. */
    private static final VectorShuffle<Byte> QH_LANES = VectorShuffle.fromOp(ByteVector.SPECIES_128, j -> 10 + j % 4);
    /** 3^(p / 4) for position 16 + p: qh[p mod 4]'s trit p / 4. */
    private static final short[] QH_POW3 = {1, 1, 1, 1, 3, 3, 3, 3, 9, 9, 9, 9, 27, 27, 27, 27};

    private TQ1_0() {
        super(BLOCK_BYTES, D);
    }

    @Override
    public GGMLType type() {
        return GGMLType.TQ1_0;
    }

    @Override
    int code(MemorySegment w, long o, int j) {
        int off, n;
        if (j < 160) {
            off = QS + j % 32;
            n = j / 32;
        } else if (j < 240) {
            off = QS_TAIL + (j - 160) % 16;
            n = (j - 160) / 16;
        } else {
            off = QH + (j - 240) % 4;
            n = (j - 240) / 4;
        }
        int t = (Byte.toUnsignedInt(w.get(ValueLayout.JAVA_BYTE, o + off)) * POW3[n]) & 0xFF;
        return (t * 3) >> 8;
    }

    /**
     * At 512 bits {@link #dotRowsWide}. Below, each row rewritten as TQ2_0 blocks (the same codes, two
     * bits each, and the same scale) in this thread's scratch memory, then TQ2_0's kernel on them: the same integer lanes and float steps as
     * {@link #dotReference}, so the same result to the bit. The unpacking is a compilation of its own
     * ({@code unpack*} is not inlined, see run.sh) and calls nothing but the Vector API, whose methods
     * C2 inlines late when a method has grown large, where it gives up on ours: a TQ1_0 kernel built
     * from helpers of our own ran in the Vector API's Java fallback at 1B shapes.
     */
    @Override
    public void dotRows(MemorySegment w, long offset, long rowBytes, Activation a, int n, float[] out, int r0, int r1) {
        if (VectorMath.BITS == 512) {
            dotRowsWide(w, offset, rowBytes, a, n, out, r0, r1);
            return;
        }
        MemorySegment codes = scratch(TQ2_0.INSTANCE.rowBytes(n));
        for (int r = r0; r < r1; r++) {
            unpackAsTQ2_0(w, offset + r * rowBytes, codes, n);
            out[r] = TQ2_0.dotNarrow(codes, 0, a, n);
        }
    }

    // At 512 bits a chunk's 32 positions are one short vector, so each trit, once out of its byte,
    // multiplies its activations at once: no TQ2_0 bytes written and read back, 1.3x faster (one thread, 2048x5632: 2.8 -> 3.6-3.8 GB/s).
    private static final ShortVector WIDE_THREE = ShortVector.broadcast(WIDE, (short) 3);
    private static final ShortVector WIDE_LOW_BYTE = ShortVector.broadcast(WIDE, (short) 0xFF);
    private static final VectorMask<Short> SECOND_HALF = VectorMask.fromLong(WIDE, 0xFFFF0000L);
    /** Lanes 16..31 multiplied once more: the second halves' trits are the odd ones of qs[32 + m]. */
    private static final ShortVector SECOND_HALF_AHEAD = ShortVector.broadcast(WIDE, (short) 1).blend((short) 3, SECOND_HALF);
    /** The 16 bytes qs[32..47], twice. */
    private static final VectorShuffle<Byte> TWICE = VectorShuffle.fromOp(WIDE_BYTES, j -> j % 16);
    /** Lane j of the block's last 32 bytes (qh at 26..29) → qh[j mod 4]. */
    private static final VectorShuffle<Byte> QH_WIDE = VectorShuffle.fromOp(WIDE_BYTES, j -> 26 + j % 4);
    /** 3^((j mod 16) / 4): lane 16 + p reads qh[p mod 4]'s trit p / 4. */
    private static final ShortVector QH_POW3_WIDE = ShortVector.fromArray(WIDE, qhPowers(), 0);

    private static short[] qhPowers() {
        short[] f = new short[WIDE.length()];
        for (int j = 0; j < f.length; j++) f[j] = (short) POW3[(j % 16) / 4];
        return f;
    }

    /**
     * The 512-bit path ({@link Ternary#accumulateWide}): the trits straight out of their bytes (see the
     * class comment), lane m of every chunk's vector its position m. Chunks 0..4 are trits 0..4 of
     * qs[m]; chunks 5, 6 and the first half of 7 come from qs[32 + m], read twice over so that each
     * chunk's second half, one trit ahead, comes out beside its first; qh completes chunk 7.
     */
    private static void dotRowsWide(MemorySegment w, long offset, long rowBytes, Activation a, int n, float[] out, int r0, int r1) {
        float[] lanes = new float[WIDE_FLOATS.length()];
        for (int row = r0; row < r1; row++) {
            FloatVector acc = FloatVector.zero(WIDE_FLOATS);
            for (int b = 0; b < n / BLOCK; b++) {
                long o = offset + row * rowBytes + (long) b * BLOCK_BYTES;
                int i = b * BLOCK;
                ShortVector q = (ShortVector) ByteVector.fromMemorySegment(WIDE_BYTES, w, o + QS, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, WIDE, 0);
                ShortVector s = ShortVector.zero(WIDE);
                for (int c = 0; c < 5; c++) {
                    ShortVector q3 = q.mul(WIDE_THREE);
                    s = s.add(q3.lanewise(VectorOperators.LSHR, 8).mul(ShortVector.fromArray(WIDE, a.wide, i + CHUNK * c)));
                    q = q3.and(WIDE_LOW_BYTE);
                }
                ShortVector r = ((ShortVector) ByteVector.fromMemorySegment(ByteVector.SPECIES_128, w, o + QS_TAIL, ByteOrder.LITTLE_ENDIAN)
                        .reinterpretShape(WIDE_BYTES, 0).rearrange(TWICE).convertShape(VectorOperators.ZERO_EXTEND_B2S, WIDE, 0))
                        .mul(SECOND_HALF_AHEAD).and(WIDE_LOW_BYTE);
                for (int c = 5; c < 7; c++) {
                    ShortVector r3 = r.mul(WIDE_THREE);
                    s = s.add(r3.lanewise(VectorOperators.LSHR, 8).mul(ShortVector.fromArray(WIDE, a.wide, i + CHUNK * c)));
                    // The trit after belongs to the other half: skipped.
                    r = r3.and(WIDE_LOW_BYTE).mul(WIDE_THREE).and(WIDE_LOW_BYTE);
                }
                ShortVector qh = ((ShortVector) ByteVector.fromMemorySegment(WIDE_BYTES, w, o + BLOCK_BYTES - WIDE_BYTES.length(), ByteOrder.LITTLE_ENDIAN)
                        .rearrange(QH_WIDE).convertShape(VectorOperators.ZERO_EXTEND_B2S, WIDE, 0)).mul(QH_POW3_WIDE).and(WIDE_LOW_BYTE);
                ShortVector last = r.blend(qh, SECOND_HALF).mul(WIDE_THREE).lanewise(VectorOperators.LSHR, 8);
                s = s.add(last.mul(ShortVector.fromArray(WIDE, a.wide, i + CHUNK * 7)));
                acc = accumulateWide(s, a, b, Half.f16Tail(w, o + D), acc);
            }
            acc.intoArray(lanes, 0);
            out[row] = sumWide(lanes);
        }
    }

    /** TQ2_0's lane kernel on each row unpacked into TQ2_0's form, bit for bit {@link #dot} per token. */
    @Override
    public void matmul(MemorySegment w, long rowBytes, int cols, TokenLanes x, float[][] out, int r0, int r1) {
        x.matmulPairs(w, rowBytes, cols, cols / BLOCK, 1, out, r0, r1, TQ1_0::unpackRow, Ternary::pairLanes);
    }

    private static void unpackRow(MemorySegment w, long off, int blocks, float[] wf, int o, float[] d, int od) {
        MemorySegment codes = scratch(TQ2_0.INSTANCE.rowBytes((long) blocks * BLOCK));
        unpackAsTQ2_0(w, off, codes, blocks * BLOCK);
        TQ2_0.unpackRow(codes, 0, blocks, wf, o, d, od);
    }

    private static final ThreadLocal<MemorySegment[]> SCRATCH = ThreadLocal.withInitial(() -> new MemorySegment[1]);

    private static MemorySegment scratch(long bytes) {
        MemorySegment[] held = SCRATCH.get();
        if (held[0] == null || held[0].byteSize() < bytes) held[0] = Arena.ofAuto().allocate(bytes, 64);
        return held[0];
    }

    /**
     * Writes the {@code n / 256} blocks at {@code offset} as TQ2_0 blocks at {@code dst}: TQ2_0's byte
     * m of its first run packs chunks 0..3 at position m, of its second run chunks 4..7. The trits of
     * a byte come out one multiplication by 3 at a time (see the class comment): each brings the next
     * trit into bits 8..9, and the low byte carries on to the trit after it. Chunks 0..4 are trits 0..4
     * of qs[m]; chunks 5, 6 and the first half of 7 are trits 0, 2, 4 of qs[32 + m] (first halves) or
     * 1, 3 (second halves); the second half of chunk 7 is in qh.
     */
    static void unpackAsTQ2_0(MemorySegment w, long offset, MemorySegment dst, int n) {
        // Two compilation roots (unpack* is not inlined, see run.sh) that call nothing but the Vector
        // API. As one method, C2 now and then compiled the second run's blends as calls (to a helper
        // of ours, or with the helper written out, to the Vector API's own methods), and those ran in
        // the Vector API's Java fallback for the rest of the process: about one process in seven
        // prefilled a 1.1B TQ1_0 prompt at 38-44 tok/s instead of 60-80, with 30,000 young
        // collections instead of 3,000 (2 in 6 with the helper written out; none in 22 split).
        unpackFirstRun(w, offset, dst, n);
        unpackSecondRun(w, offset, dst, n);
    }

    /**
     * TQ2_0's first run, chunks 0..3: trits 0..3 of qs[m]. Each trit, times 3, has its value in bits 8
     * and 9; one shift puts it at its 2-bit field c and one blend keeps just that field.
     */
    private static void unpackFirstRun(MemorySegment w, long offset, MemorySegment dst, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES, t = (long) b * TQ2_0.BLOCK_BYTES;
            for (int p = 0; p < CHUNK; p += L) {
                ShortVector q = (ShortVector) ByteVector.fromMemorySegment(BYTES, w, o + QS + p, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
                ShortVector low = ShortVector.zero(SHORTS);
                for (int c = 0; c < 4; c++) {
                    ShortVector q3 = q.mul(THREE);
                    low = low.lanewise(VectorOperators.BITWISE_BLEND, q3.lanewise(VectorOperators.LSHR, 8 - 2 * c), ShortVector.broadcast(SHORTS, (short) (3 << 2 * c)));
                    q = q3.and(LOW_BYTE);
                }
                ((ByteVector) low.convertShape(VectorOperators.S2B, BYTES, 0)).intoMemorySegment(dst, t + p, ByteOrder.LITTLE_ENDIAN);
            }
        }
    }

    /**
     * TQ2_0's second run and d: chunk 4 from qs (its trits 0..3 stepped over at once, q·3^4 mod 256
     * being what four steps of ·3 mod 256 leave), then chunks 5..7 from the tail's trits and qh, each
     * blended into its field as in {@link #unpackFirstRun}; a trit that belongs to the other half is
     * skipped.
     */
    private static void unpackSecondRun(MemorySegment w, long offset, MemorySegment dst, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES, t = (long) b * TQ2_0.BLOCK_BYTES;
            // The block's last 16 bytes in one vector read (scalar reads from the mapped file cost
            // several times more): qh, repeated so that position 16 + m reads qh[m mod 4], and d.
            ByteVector end = ByteVector.fromMemorySegment(ByteVector.SPECIES_128, w, o + BLOCK_BYTES - 16, ByteOrder.LITTLE_ENDIAN);
            ShortVector qhRepeated = (ShortVector) end.rearrange(QH_LANES).convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
            dst.set(Half.LE_SHORT, t + TQ2_0.D, ((ShortVector) end.reinterpretShape(ShortVector.SPECIES_128, 0)).lane(7));
            for (int p = 0; p < CHUNK; p += L) {
                int m = p % 16;
                ShortVector q = (ShortVector) ByteVector.fromMemorySegment(BYTES, w, o + QS + p, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
                ShortVector up = q.mul(POW3_4).and(LOW_BYTE).mul(THREE).lanewise(VectorOperators.LSHR, 8);
                ShortVector r = (ShortVector) ByteVector.fromMemorySegment(BYTES, w, o + QS_TAIL + m, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
                int skip = p / 16;
                for (int k = 0; k < 5; k++) {
                    ShortVector r3 = r.mul(THREE);
                    int field = 1 + k / 2;
                    if (k % 2 == skip) up = up.lanewise(VectorOperators.BITWISE_BLEND, r3.lanewise(VectorOperators.LSHR, 8 - 2 * field), ShortVector.broadcast(SHORTS, (short) (3 << 2 * field)));
                    r = r3.and(LOW_BYTE);
                }
                if (skip == 1) {
                    ShortVector qh3 = qhRepeated.mul(ShortVector.fromArray(SHORTS, QH_POW3, m)).and(LOW_BYTE).mul(THREE);
                    up = up.lanewise(VectorOperators.BITWISE_BLEND, qh3.lanewise(VectorOperators.LSHR, 2), ShortVector.broadcast(SHORTS, (short) (3 << 6)));
                }
                ((ByteVector) up.convertShape(VectorOperators.S2B, BYTES, 0)).intoMemorySegment(dst, t + CHUNK + p, ByteOrder.LITTLE_ENDIAN);
            }
        }
    }
}
