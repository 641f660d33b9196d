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
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
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
public final class Q4_K implements RowKernel, LaneKernel {
    public static final Q4_K INSTANCE = new Q4_K();

    static final int BLOCK = 256;
    static final int BLOCK_BYTES = 144;
    private static final int D = 0, DMIN = 2, SCALES = 4, QS = 16;
    private static final VectorSpecies<Integer> HEADER = IntVector.SPECIES_128;
    /** Per super-block constants {@link #unpackCodes} keeps: d, dmin, the 8 minimums (from MINS), the 8 scales (from SUB_SCALES). */
    private static final int CONSTANTS = 18, MINS = 2, SUB_SCALES = 10;

    // How dot folds sub-blocks into fewer vectors. A pair (j, j + 1): lower half of the lanes
    // sub-block j, upper half j + 1. Two pairs (j .. j + 3): the quarters j, j + 2, j + 1, j + 3.
    private static final VectorMask<Short> UPPER_HALF = VectorMask.fromLong(SHORTS, -1L << (SHORTS.length() / 2));
    private static final VectorMask<Short> ODD_QUARTERS = VectorMask.fromValues(SHORTS, quarterMask());
    private static final VectorShuffle<Integer> SWAP_HALVES = VectorShuffle.fromOp(INTS, k -> k ^ (INTS.length() / 2));
    private static final VectorShuffle<Integer> SWAP_QUARTERS = VectorShuffle.fromOp(INTS, k -> k ^ (INTS.length() / 4));
    // Shift counts as vectors (VectorMath's class comment: scalar counts of 16-bit shifts are rebuilt before every shift).
    private static final ShortVector FOUR = ShortVector.broadcast(SHORTS, (short) 4), EIGHT = ShortVector.broadcast(SHORTS, (short) 8),
            TWELVE = ShortVector.broadcast(SHORTS, (short) 12);
    /** Scales one int vector holds: all 8, except at 128 bits (4 lanes). */
    private static final int SCALES_PER_VECTOR = Math.min(8, INTS.length());
    /** Per pair p, the scale lanes that line up with the folded pair: 2p in the lower half, 2p + 1 in the upper. */
    private static final int[] PAIR_LANES = new int[4 * INTS.length()];
    /**
     * Per half h of a super-block, the scale lanes that line up with its four folded sub-blocks: quarters
     * 4h, 4h + 2, 4h + 1, 4h + 3 from two {@link #pairProducts}, in order from {@link #halfProducts}.
     */
    private static final int[] QUARTER_LANES = new int[2 * INTS.length()];

    static {
        for (int p = 0; p < 4; p++) {
            for (int k = 0; k < INTS.length(); k++) {
                PAIR_LANES[p * INTS.length() + k] = (2 * p) % SCALES_PER_VECTOR + (k < INTS.length() / 2 ? 0 : 1);
            }
        }
        int[] order = SHORTS.length() == 32 ? new int[] {0, 1, 2, 3} : new int[] {0, 2, 1, 3};
        for (int h = 0; h < 2; h++) {
            for (int k = 0; k < INTS.length(); k++) {
                QUARTER_LANES[h * INTS.length() + k] = (4 * h) % SCALES_PER_VECTOR + order[k / (INTS.length() / 4)];
            }
        }
    }

    private static boolean[] quarterMask() {
        boolean[] odd = new boolean[SHORTS.length()];
        for (int k = 0; k < odd.length; k++) odd[k] = (k / (SHORTS.length() / 4)) % 2 == 1;
        return odd;
    }

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
        return sixBit(w.get(LittleEndian.INT, o + SCALES), w.get(LittleEndian.INT, o + SCALES + 4), w.get(LittleEndian.INT, o + SCALES + 8), mins);
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

    /**
     * Σ over sub-blocks j0 ≤ j < j1 of sc · (Σ q·a), in exact integers. The codes are read 8 at a time
     * ({@link #code}'s layout: sub-blocks 2p and 2p + 1 are the low and high nibbles of the same 32
     * bytes): this runs for real until the vector kernels are compiled, and a read from a mapped file
     * per code made a tiny model's first prompt spend a quarter of its time here.
     */
    private static int scaledSum(MemorySegment w, long o, Activation a, int b, int j0, int j1) {
        long sc = sixBit(w, o, false);
        int s = 0;
        for (int j = j0; j < j1; j++) {
            int isum = 0, shift = 4 * (j & 1);
            for (int l = 0; l < 32; l += 8) {
                long codes = w.get(LittleEndian.LONG, o + QS + 32 * (j / 2) + l) >>> shift;
                for (int k = 0; k < 8; k++) isum += (int) (codes >>> (8 * k) & 0x0F) * a.q[b * BLOCK + 32 * j + l + k];
            }
            s += sub(sc, j) * isum;
        }
        return s;
    }

    /** Σ over sub-blocks j0 ≤ j < j1 of m · (Σ a), from the activation's sums of 32. */
    private static int minSum(long m, Activation a, int b, int j0, int j1) {
        int s = 0;
        for (int j = j0; j < j1; j++) s += sub(m, j) * a.sums32[b * 8 + j];
        return s;
    }

    @Override
    public float dot(MemorySegment w, long offset, Activation a, int n) {
        // Two kernels, each a compilation root of its own: with the 4-row order's per-pair step as a
        // branch inside the loop over pairs, the lone row's dot ran 26% slower.
        return a.quad() ? dotQuad(w, offset, a, n) : RowKernel.super.dot(w, offset, a, n);
    }

    @Override
    public void matvec(MemorySegment w, long rowBytes, int cols, Activation a, float[] out, int r0, int r1) {
        if (a.quad()) {
            for (int r = r0; r < r1; r++) out[r] = dotQuad(w, r * rowBytes, a, cols);
        } else {
            dotRows(w, 0, rowBytes, a, cols, out, r0, r1);
        }
    }

    /** llama.cpp's gemv order: one float step per super-block. */
    @Override
    public void dotRows(MemorySegment w, long offset, long rowBytes, Activation a, int n, float[] out, int r0, int r1) {
        int octets = INTS.length() == 16 && n >= OCTET_MIN_BLOCKS * BLOCK ? (r1 - r0) / OCTET : 0;
        if (octets > 0) dotOctets(w, offset, rowBytes, a, n, out, r0, octets);
        for (int r = r0 + OCTET * octets; r < r1; r++) {
            float acc = 0, accMin = 0;
            for (int b = 0; b < n / BLOCK; b++) {
                long o = offset + r * rowBytes + (long) b * BLOCK_BYTES;
                // The 16-byte header (d, dmin, the packed scales) as two scalar reads, and the scales
                // unpacked in the integer unit: this loop is bound by vector operations, and lane reads
                // from a vector load are vector operations (a vector read cost 8% more).
                long h0 = w.get(LittleEndian.LONG, o), h1 = w.get(LittleEndian.LONG, o + 8);
                int dd = (int) h0, u0 = (int) (h0 >>> 32), u1 = (int) h1, u2 = (int) (h1 >>> 32);
                long sc = sixBit(u0, u1, u2, false), m = sixBit(u0, u1, u2, true);
                ByteVector scBytes = LongVector.broadcast(LongVector.SPECIES_128, sc).reinterpretAsBytes();
                IntVector scales = (IntVector) scBytes.convertShape(VectorOperators.B2I, INTS, 0);
                IntVector scalesHigh = SCALES_PER_VECTOR == 8 ? scales : (IntVector) scBytes.convertShape(VectorOperators.B2I, INTS, 1);
                IntVector isum = IntVector.zero(INTS);
                for (int h = 0; h < 8; h += 4) {
                    // Four sub-blocks folded into one vector before their one pair sum and multiply by
                    // their scales: per pair, those were a third of the kernel.
                    IntVector totals;
                    if (SHORTS.length() == 32) {
                        totals = laneTotals(halfProducts(w, o, a, b, h));
                    } else {
                        totals = laneTotals(foldQuarters(pairProducts(w, o, a, b, h), pairProducts(w, o, a, b, h + 2)));
                    }
                    IntVector lanes = IntVector.fromArray(INTS, QUARTER_LANES, (h / 4) * INTS.length());
                    isum = isum.add(totals.mul(lanes.selectFrom(h < SCALES_PER_VECTOR ? scales : scalesHigh)));
                }
                acc = Math.fma((float) isum.reduceLanes(VectorOperators.ADD), Float.float16ToFloat((short) dd) * a.scale[b], acc);
                // The 8 minimums in one vector product: scalar, they cost a fifth of the kernel.
                int mins = ((IntVector) LongVector.broadcast(LongVector.SPECIES_128, m).reinterpretAsBytes().convertShape(VectorOperators.B2I, VectorMath.I8, 0))
                        .mul(IntVector.fromArray(VectorMath.I8, a.sums32, 8 * b)).reduceLanes(VectorOperators.ADD);
                accMin = Math.fma((float) mins, Float.float16ToFloat((short) (dd >>> 16)) * a.scale[b], accMin);
            }
            out[r] = acc - accMin;
        }
    }

    /** Rows {@link #dotOctets} takes together: llama.cpp's repacked gemv takes 8 too. */
    private static final int OCTET = 8;
    /**
     * Super-blocks a row needs for {@link #dotOctets}: on shorter rows its set-up and calls cost more
     * than the sums it saves (tiny Q4_K_M, 256- and 768-wide rows, tg64 medians of three alternated
     * runs: @1 1579 tok/s with octets, 1684 without; @2 1964 and 2427).
     */
    private static final int OCTET_MIN_BLOCKS = 4;
    private static final VectorSpecies<Byte> HEADER_BYTES = ByteVector.SPECIES_128;
    /**
     * The header's bytes that {@link #scalesAndMins} reads, lane for lane of its result (sc_0..7, then
     * m_0..7): {@code LOW_SOURCE} the low 6 bits (sc, m 0..3) or the nibble (sc, m 4..7),
     * {@code HIGH_SOURCE} the byte whose top 2 bits are bits 4, 5 of sc, m 4..7. Bytes 0..3 are d, dmin.
     */
    private static final VectorShuffle<Byte> LOW_SOURCE = VectorShuffle.fromValues(HEADER_BYTES, 4, 5, 6, 7, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15),
            HIGH_SOURCE = VectorShuffle.fromValues(HEADER_BYTES, 0, 0, 0, 0, 4, 5, 6, 7, 0, 0, 0, 0, 8, 9, 10, 11);
    /** Per lane of {@link #scalesAndMins}: the bits kept of the low source, of it shifted right by 4, and of the high source shifted right by 2. */
    private static final IntVector LOW_BITS = bytes(0x3F, 0x3F, 0x0F, 0x0F, 0x3F, 0x3F, 0x00, 0x00), NIBBLE_BITS = bytes(0, 0, 0, 0, 0, 0, 0x0F, 0x0F),
            HIGH_BITS = bytes(0, 0, 0x30, 0x30, 0, 0, 0x30, 0x30);
    private static final VectorMask<Integer> UPPER_INTS = VectorMask.fromLong(INTS, -1L << (INTS.length() / 2));
    /** {@link #dotOctetTotals}' folds of 8 rows: the partner at distance 1, 2, 4, and the lanes that take the second row of each pair. */
    private static final VectorShuffle<Integer> SWAP_4 = swap(4), SWAP_2 = swap(2), SWAP_1 = swap(1);
    private static final VectorMask<Integer> ODD_1 = bit(1), ODD_2 = bit(2), ODD_4 = bit(4);
    /** Per half of a super-block, {@link #QUARTER_LANES} as a vector. */
    private static final IntVector QUARTERS_LOW = IntVector.fromArray(INTS, QUARTER_LANES, 0), QUARTERS_HIGH = IntVector.fromArray(INTS, QUARTER_LANES, INTS.length());
    /** Lanes 0..7 keep the low half of each int (d), lanes 8..15 the high half (dmin), sign-extended. */
    private static final IntVector HALF_SHIFTS = IntVector.fromArray(INTS, halfShifts(), 0);
    private static final IntVector SIXTEEN = IntVector.broadcast(INTS, 16);

    /** 16 bytes, each of 8 values repeated twice: the masks of {@link #scalesAndMins}, as 4 ints. */
    private static IntVector bytes(int... pairs) {
        byte[] b = new byte[16];
        for (int i = 0; i < 16; i++) b[i] = (byte) pairs[i / 2];
        return ByteVector.fromArray(HEADER_BYTES, b, 0).reinterpretAsInts();
    }

    /** Lane k's partner at distance d (wrapped at widths below 512 bits, where {@link #dotOctets} does not run). */
    private static VectorShuffle<Integer> swap(int d) {
        return VectorShuffle.fromOp(INTS, k -> (k ^ d) & (INTS.length() - 1));
    }

    /** The lanes whose index has bit d set. */
    private static VectorMask<Integer> bit(int d) {
        long m = 0;
        for (int k = 0; k < INTS.length(); k++) if ((k & d) != 0) m |= 1L << k;
        return VectorMask.fromLong(INTS, m);
    }

    private static int[] halfShifts() {
        int[] s = new int[INTS.length()];
        for (int k = 0; k < s.length; k++) s[k] = k < s.length / 2 ? 16 : 0;
        return s;
    }

    /**
     * Per thread, {@link #dotOctets}'s scratch: per super-block, 16 ints of each of the 8 rows' terms
     * (whose folded totals then replace row 0's), 16 of their d and dmin, and 16 of the activation's sums of 32 (in lanes 8..15). Ints kept in a float[]:
     * C2 could not tell stores into an int[] from its constant shuffles' indices (an int[] too), so it
     * reloaded all 7 of them every super-block, 21 instructions of 131.
     */
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);
    private static final int TOTALS = 0, HALVES = 8 * 16, SUMS = HALVES + 16, PER_BLOCK = SUMS + 16;

    /**
     * At 512 bits, {@code 8·octets} rows from r0, 8 at a time. Lane k of the accumulator is row k's acc
     * and lane 8 + k its accMin, llama.cpp's repacked gemv exactly: per super-block, each row's
     * Σ sc·(Σ q·a) and Σ m·(Σ a) are left as a vector of 8 terms each, the 8 rows' vectors are folded
     * into one holding each row's two sums in its lanes (folded one row at a time, a row's own sums were
     * 8% more of the kernel: JMH, 2048×5632, one token, 66–70 → 73–76 GFLOP/s), and the float step is
     * one fma for all 8 rows, where a row alone takes two horizontal sums and two scalar fmas per
     * super-block. The header's scales and minimums
     * are unpacked in vector lanes too ({@link #scalesAndMins}), and d, dmin converted 16 at a time.
     * Each row is read from start to end before the next: 8 rows read a super-block at a time are 8
     * memory streams, and from DRAM they ran slower than one (1.1B decode 16.5 tok/s against 19.6).
     */
    private static void dotOctets(MemorySegment w, long offset, long rowBytes, Activation a, int n, float[] out, int r0, int octets) {
        int blocks = n / BLOCK;
        float[] scratch = SCRATCH.get();
        if (scratch.length < PER_BLOCK * blocks) SCRATCH.set(scratch = new float[PER_BLOCK * blocks]);
        for (int b = 0; b < blocks; b++) {
            ((IntVector) IntVector.fromArray(VectorMath.I8, a.sums32, 8 * b).reinterpretShape(INTS, 0)).rearrange(SWAP_HALVES).reinterpretAsFloats().intoArray(scratch, PER_BLOCK * b + SUMS);
        }
        for (int g = 0; g < octets; g++) {
            int r = r0 + OCTET * g;
            for (int k = 0; k < OCTET; k++) dotOctetRow(w, offset + (r + k) * rowBytes, a, blocks, scratch, k);
            dotOctetTotals(scratch, blocks);
            dotOctetFloats(scratch, a, blocks, out, r);
        }
    }

    /** Row {@code lane} of an octet, at {@code row}: its unfolded totals, d and dmin into its slots of each super-block's scratch. */
    private static void dotOctetRow(MemorySegment w, long row, Activation a, int blocks, float[] scratch, int lane) {
        IntVector zero = IntVector.zero(INTS);
        // Running offsets rather than ones computed from b: their arithmetic was a third of the loop's instructions.
        long o = row;
        for (int k = 0, s = 0; s < PER_BLOCK * blocks; o += BLOCK_BYTES, k += BLOCK / 2, s += PER_BLOCK) {
            ByteVector header = ByteVector.fromMemorySegment(HEADER_BYTES, w, o, ByteOrder.LITTLE_ENDIAN);
            IntVector sm = scalesAndMins(header);
            // The two halves as a loop, parsed once: written out, the second passed C2's inlining budget.
            IntVector isum = zero;
            for (int h = 0; h < 2; h++) isum = isum.add(laneTotals(halfProducts(w, o + QS + 64 * h, a, k + 64 * h)).mul((h == 0 ? QUARTERS_LOW : QUARTERS_HIGH).selectFrom(sm)));
            // Lanes 0..7 the row's scaled sums, 8..15 its minimums times the activation sums, each 8 to be
            // summed by dotOctetTotals for all 8 rows at once.
            isum.add(isum.rearrange(SWAP_HALVES)).blend(sm.mul(FloatVector.fromArray(FLOATS, scratch, s + SUMS).reinterpretAsInts()), UPPER_INTS)
                    .reinterpretAsFloats().intoArray(scratch, s + TOTALS + INTS.length() * lane);
            // d and dmin from the header's vector: a scalar read from a mapped segment keeps its
            // bounds check, a call, in the loop (a third of the samples).
            float dd = Float.intBitsToFloat(header.reinterpretAsInts().lane(0));
            scratch[s + HALVES + lane] = dd;
            scratch[s + HALVES + OCTET + lane] = dd;
        }
    }

    /**
     * Per super-block, the 8 rows' vectors {@link #dotOctetRow} left summed into one, in row 0's slot,
     * whose lane k is row k's Σ sc·(Σ q·a) and lane 8 + k its Σ m·(Σ a): three rounds of pairwise folds,
     * 7 for the 8 rows, where each row's own sums took 3. A compilation root of its own, as is the
     * float step: together they passed C2's inlining budget and the float step's vectors were boxed.
     */
    private static void dotOctetTotals(float[] scratch, int blocks) {
        for (int s = 0; s < PER_BLOCK * blocks; s += PER_BLOCK) {
            IntVector t0 = fold(total(scratch, s, 0), total(scratch, s, 1), ODD_1, SWAP_1), t1 = fold(total(scratch, s, 2), total(scratch, s, 3), ODD_1, SWAP_1);
            IntVector t2 = fold(total(scratch, s, 4), total(scratch, s, 5), ODD_1, SWAP_1), t3 = fold(total(scratch, s, 6), total(scratch, s, 7), ODD_1, SWAP_1);
            fold(fold(t0, t1, ODD_2, SWAP_2), fold(t2, t3, ODD_2, SWAP_2), ODD_4, SWAP_4).reinterpretAsFloats().intoArray(scratch, s + TOTALS);
        }
    }

    /** The float steps of the 8 rows from r whose totals {@link #dotOctetTotals} left in {@code scratch}. */
    private static void dotOctetFloats(float[] scratch, Activation a, int blocks, float[] out, int r) {
        FloatVector acc = FloatVector.zero(FLOATS);
        for (int b = 0; b < blocks; b++) {
            // d in lanes 0..7, dmin in 8..15, sign-extended f16 bits, then floats.
            IntVector x = FloatVector.fromArray(FLOATS, scratch, PER_BLOCK * b + HALVES).reinterpretAsInts().lanewise(VectorOperators.LSHL, HALF_SHIFTS).lanewise(VectorOperators.ASHR, SIXTEEN);
            FloatVector scales = Half.f16s16(x).mul(FloatVector.broadcast(FLOATS, a.scale[b]));
            acc = ((FloatVector) FloatVector.fromArray(FLOATS, scratch, PER_BLOCK * b + TOTALS).reinterpretAsInts().convertShape(VectorOperators.I2F, FLOATS, 0)).fma(scales, acc);
        }
        // acc − accMin per row, stored 8 wide: stored as the 16 lanes under a mask, it was 5% of a 1.1B
        // Q4_K_M decode's samples (JFR).
        VectorMath.lowerHalf(acc).sub(VectorMath.upperHalf(acc)).intoArray(out, r);
    }

    private static IntVector total(float[] scratch, int s, int row) {
        return FloatVector.fromArray(FLOATS, scratch, s + TOTALS + INTS.length() * row).reinterpretAsInts();
    }

    /** Lanes without bit d of their index: x's lane and its partner at distance d summed; lanes with it: y's. */
    private static IntVector fold(IntVector x, IntVector y, VectorMask<Integer> bit, VectorShuffle<Integer> swap) {
        return x.blend(y, bit).add(y.blend(x, bit).rearrange(swap));
    }

    /** The 16 ints sc_0..7, m_0..7 that {@link #sixBit} unpacks, from a super-block's 16-byte header, in vector lanes. */
    private static IntVector scalesAndMins(ByteVector header) {
        IntVector low = header.rearrange(LOW_SOURCE).reinterpretAsInts(), high = header.rearrange(HIGH_SOURCE).reinterpretAsInts();
        IntVector packed = low.and(LOW_BITS).or(low.lanewise(VectorOperators.LSHR, 4).and(NIBBLE_BITS)).or(high.lanewise(VectorOperators.LSHR, 2).and(HIGH_BITS));
        return (IntVector) packed.reinterpretAsBytes().convertShape(VectorOperators.B2I, INTS, 0);
    }

    /** llama.cpp's 4-row gemm order: one float step per pair of sub-blocks. */
    private static float dotQuad(MemorySegment w, long offset, Activation a, int n) {
        float acc = 0, accMin = 0;
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            float d = Half.f16(w, o + D) * a.scale[b], dmin = Half.f16(w, o + DMIN) * a.scale[b];
            long sc = sixBit(w, o, false), m = sixBit(w, o, true);
            ByteVector scBytes = LongVector.broadcast(LongVector.SPECIES_128, sc).reinterpretAsBytes();
            IntVector scales = (IntVector) scBytes.convertShape(VectorOperators.B2I, INTS, 0);
            IntVector scalesHigh = SCALES_PER_VECTOR == 8 ? scales : (IntVector) scBytes.convertShape(VectorOperators.B2I, INTS, 1);
            for (int j = 0; j < 8; j += 2) {
                IntVector lanes = IntVector.fromArray(INTS, PAIR_LANES, (j / 2) * INTS.length());
                IntVector pair = laneTotals(pairProducts(w, o, a, b, j)).mul(lanes.selectFrom(j < SCALES_PER_VECTOR ? scales : scalesHigh));
                acc = Math.fma((float) pair.reduceLanes(VectorOperators.ADD), d, acc);
                accMin = Math.fma((float) minSum(m, a, b, j, j + 2), dmin, accMin);
            }
        }
        return acc - accMin;
    }

    /**
     * The products q·a of sub-blocks j and j + 1 of super-block b (at o), folded into one vector:
     * in the lower half of the lanes sub-block j's, in the upper half j + 1's, each lane a sum of
     * 64 / {@code SHORTS.length()} products.
     */
    private static ShortVector pairProducts(MemorySegment w, long o, Activation a, int b, int j) {
        // The pair shares the 32 bytes at QS + 16·j: low nibbles, then high nibbles; each byte is
        // loaded once for both.
        long qs = o + QS + 16 * j;
        int x = b * BLOCK + 32 * j;
        // The first run starts the sums rather than adding to zero: C2 keeps those adds (8 a super-block).
        ShortVector q = VectorMath.uint8(w, qs);
        ShortVector low = q.and(LOW_NIBBLE).mul(ShortVector.fromArray(SHORTS, a.wide, x));
        ShortVector high = q.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(SHORTS, a.wide, x + 32));
        for (int c = SHORTS.length(); c < 32; c += SHORTS.length()) {
            q = VectorMath.uint8(w, qs + c);
            low = low.add(q.and(LOW_NIBBLE).mul(ShortVector.fromArray(SHORTS, a.wide, x + c)));
            high = high.add(q.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(SHORTS, a.wide, x + 32 + c)));
        }
        return low.blend(high, UPPER_HALF).add(high.blend(low, UPPER_HALF).reinterpretAsInts().rearrange(SWAP_HALVES).reinterpretAsShorts());
    }

    /**
     * At 512 bits, the products of half h's four sub-blocks (h .. h + 3) folded as {@link #foldQuarters}
     * folds two pairs, from one load of their 64 bytes: a 16-bit lane holds elements 2i and 2i + 1 of
     * sub-blocks h + 2p (bits 0..3 and 8..11) and h + 2p + 1 (bits 4..7, 12..15), p = 0 in the lower
     * half of the lanes and 1 in the upper. {@link Activation#nibbleEvens} and {@code nibbleOdds} hold
     * the activations in that order, so each lane adds its two products; widening each byte and
     * folding the sub-blocks' vectors together took a third more operations.
     */
    private static ShortVector halfProducts(MemorySegment w, long o, Activation a, int b, int h) {
        return halfProducts(w, o + QS + 16 * h, a, b * (BLOCK / 2) + 16 * h);
    }

    /** {@link #halfProducts} of the 64 bytes of codes at q, against the activations' pairs from k. */
    private static ShortVector halfProducts(MemorySegment w, long q, Activation a, int k) {
        ShortVector x = ShortVector.fromMemorySegment(SHORTS, w, q, ByteOrder.LITTLE_ENDIAN);
        ShortVector low = x.and(LOW_NIBBLE).mul(ShortVector.fromArray(SHORTS, a.nibbleEvens, k))
                .add(x.lanewise(VectorOperators.LSHR, EIGHT).and(LOW_NIBBLE).mul(ShortVector.fromArray(SHORTS, a.nibbleOdds, k)));
        ShortVector high = x.lanewise(VectorOperators.LSHR, FOUR).and(LOW_NIBBLE).mul(ShortVector.fromArray(SHORTS, a.nibbleEvens, k + 32))
                .add(x.lanewise(VectorOperators.LSHR, TWELVE).mul(ShortVector.fromArray(SHORTS, a.nibbleOdds, k + 32)));
        return foldQuarters(low, high);
    }

    /** Two folded pairs (j, j + 1 and j + 2, j + 3) as one vector, whose quarters hold sub-blocks j, j + 2, j + 1, j + 3. */
    private static ShortVector foldQuarters(ShortVector first, ShortVector second) {
        return first.blend(second, ODD_QUARTERS).add(second.blend(first, ODD_QUARTERS).reinterpretAsInts().rearrange(SWAP_QUARTERS).reinterpretAsShorts());
    }

    /**
     * Adjacent lane pairs summed into int lanes. A lane of four folded sub-blocks sums up to
     * 256 / {@code SHORTS.length()} products of at most 15·128: a pair of them fits in 16 bits
     * ({@link VectorMath#pairSum}) from 256 bits up, and is widened half by half at 128.
     */
    private static IntVector laneTotals(ShortVector v) {
        if (SHORTS.length() >= 16) return VectorMath.pairSum(v);
        IntVector x = (IntVector) v.reinterpretShape(INTS, 0);
        return x.lanewise(VectorOperators.ASHR, 16).add(x.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
    }

    /**
     * 96: unpacking a row to codes and narrowing it to pairs is a tenth of a prompt, shared by more
     * tokens at 96 than at 64. 1.1B Q4_K_M (its Q6_K takes 96 too), alternated runs, medians: pp256 @1
     * 47.8 -> 56.6 tok/s (128: 47.0), @2 83.4 -> 87.4 (128: 92.8); pp512 @1 40.5, 50.1 -> 47.8, 53.7,
     * @2 81.5, 84.0 -> 89.0, 84.3. Against the jar before, two sets of alternated pp256 runs: @1 47.8
     * -> 47.3 and 43.5 -> 50.1, @2 89.5 -> 88.5 and 67.5 -> 87.9.
     */
    @Override
    public int tokenTile() {
        return 96;
    }

    @Override
    public boolean readsPairs() {
        return true;
    }

    /**
     * The 4-row gemm order only ({@link TokenLanes} holds nothing else), on rows unpacked to their raw
     * codes and narrowed to pairs ({@link TokenLanes#matmulPairs}). Per sub-block, each token's Σ q·a
     * is summed in two 16-bit halves of 16 products each, at most 16·15·128 &lt; 2^15, one multiply and
     * one add per pair of elements for a whole group (float FMAs did one element per operation). Per
     * pair of sub-blocks, sc_j·S_j + sc_{j+1}·S_{j+1} is then formed in floats, exactly (below 2^23), and
     * fma'd into acc, and the pair's Σ m·(Σ a) into accMin, as {@link #dot} does.
     */
    @Override
    public void matmul(MemorySegment w, long rowBytes, int cols, TokenLanes x, float[][] out, int r0, int r1) {
        x.matmulUnpackedPairs(w, rowBytes, cols, cols / BLOCK, CONSTANTS, out, r0, r1, Q4_K::unpackCodes, Q4_K::pairLanes);
    }

    /** Two bytes of codes per int lane, zero-extended: {@link #unpackCodes} takes a run of 32 bytes in 32 / (2 · lanes) steps. */
    private static final VectorSpecies<Short> CODE_PAIRS = VectorSpecies.of(short.class, VectorShape.forBitSize(VectorMath.BITS / 2));
    private static final IntVector LOW_CODE = IntVector.broadcast(INTS, 0x0F), SECOND_LOW = IntVector.broadcast(INTS, 0x0F00),
            SECOND_HIGH = IntVector.broadcast(INTS, 0xF000);

    /**
     * A row's codes q (0..15) as 16-bit pairs into {@code pairs[o ..]} ({@link TokenLanes.PairUnpacker});
     * per super-block d, dmin, the 8 minimums and the 8 scales into {@code c[oc + 18·b ..]}. Elements
     * 2k and 2k + 1 of a sub-block are the nibbles of two neighbouring bytes, so an int lane holding
     * bytes b0, b1 becomes the pair (b0 &amp; 15) | (b1 &amp; 15) &lt;&lt; 16 for the low nibbles' sub-block and
     * (b0 &gt;&gt; 4) | (b1 &gt;&gt; 4) &lt;&lt; 16 for the high nibbles'. (Unpacked to floats and narrowed
     * afterwards, this was 12% of a 1.1B Q4_K_M prompt.)
     */
    private static void unpackCodes(MemorySegment w, long off, int blocks, int[] pairs, int o, float[] c, int oc) {
        for (int b = 0; b < blocks; b++) {
            long p = off + (long) b * BLOCK_BYTES;
            IntVector header = IntVector.fromMemorySegment(HEADER, w, p, ByteOrder.LITTLE_ENDIAN);
            int dd = header.lane(0), u0 = header.lane(1), u1 = header.lane(2), u2 = header.lane(3);
            long sc = sixBit(u0, u1, u2, false), m = sixBit(u0, u1, u2, true);
            int cb = oc + CONSTANTS * b;
            c[cb] = Float.float16ToFloat((short) dd);
            c[cb + 1] = Float.float16ToFloat((short) (dd >>> 16));
            for (int j = 0; j < 8; j++) {
                c[cb + MINS + j] = sub(m, j);
                c[cb + SUB_SCALES + j] = sub(sc, j);
            }
            for (int j = 0; j < 8; j += 2) {
                int i = o + (b * BLOCK + 32 * j) / 2;
                for (int k = 0; k < 32; k += 2 * INTS.length()) {
                    IntVector v = (IntVector) ShortVector.fromMemorySegment(CODE_PAIRS, w, p + QS + 16 * j + k, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.ZERO_EXTEND_S2I, INTS, 0);
                    v.and(LOW_CODE).or(v.and(SECOND_LOW).lanewise(VectorOperators.LSHL, 8)).intoArray(pairs, i + k / 2);
                    v.lanewise(VectorOperators.LSHR, 4).and(LOW_CODE).or(v.and(SECOND_HIGH).lanewise(VectorOperators.LSHL, 4)).intoArray(pairs, i + 16 + k / 2);
                }
            }
        }
    }

    /** {@link #dotPairLanes} and its results stored: the lane kernel. */
    private static void pairLanes(TokenLanes x, int g, int n, float[][] out, int r, int last) {
        dotPairLanes(x, g, n);
        x.storeRows(out, g, r, last);
    }

    /**
     * Group g's tokens against the tile's 4 unpacked rows, each token vector loaded serving all 4
     * (JMH, 2048×5632, 128 tokens, one thread: 121 GFLOP/s with 2 rows a tile); row i's results
     * left at {@code x.partials[i·WIDTH ..]} for {@link TokenLanes#storeRows}: stored here, the kernel
     * passed C2's inlining budget and the stores fell to the Java fallback.
     */
    private static void dotPairLanes(TokenLanes x, int g, int n) {
        VectorSpecies<Short> pairs = TokenLanes.PAIR_SHORTS;
        int blocks = n / BLOCK, width = TokenLanes.WIDTH, half = n / 2;
        int[] wp = x.rowPairs;
        short[] ap = x.pairs;
        float[] c = x.rowConstants, sums = x.sums;
        int v = g * n * width, u = g * (n / 32) * width;
        FloatVector zero = FloatVector.zero(FLOATS);
        ShortVector none = ShortVector.zero(pairs);
        FloatVector acc0 = zero, acc1 = zero, acc2 = zero, acc3 = zero, accMin0 = zero, accMin1 = zero, accMin2 = zero, accMin3 = zero;
        for (int b = 0; b < blocks; b++) {
            FloatVector da = FloatVector.fromArray(FLOATS, x.scales, (g * blocks + b) * width);
            int c0 = CONSTANTS * b, c1 = CONSTANTS * (blocks + b), c2 = CONSTANTS * (2 * blocks + b), c3 = CONSTANTS * (3 * blocks + b);
            for (int j = 0; j < 8; j += 2) {
                // s_i: sub-block j of row i, t_i: sub-block j + 1.
                ShortVector s0 = none, s1 = none, s2 = none, s3 = none, t0 = none, t1 = none, t2 = none, t3 = none;
                int k0 = (b * BLOCK + 32 * j) / 2;
                for (int k = k0; k < k0 + 16; k++) {
                    ShortVector x0 = ShortVector.fromArray(pairs, ap, v + 2 * k * width), x1 = ShortVector.fromArray(pairs, ap, v + 2 * (k + 16) * width);
                    s0 = s0.add(x0.mul(IntVector.broadcast(INTS, wp[k]).reinterpretAsShorts()));
                    t0 = t0.add(x1.mul(IntVector.broadcast(INTS, wp[k + 16]).reinterpretAsShorts()));
                    s1 = s1.add(x0.mul(IntVector.broadcast(INTS, wp[half + k]).reinterpretAsShorts()));
                    t1 = t1.add(x1.mul(IntVector.broadcast(INTS, wp[half + k + 16]).reinterpretAsShorts()));
                    s2 = s2.add(x0.mul(IntVector.broadcast(INTS, wp[2 * half + k]).reinterpretAsShorts()));
                    t2 = t2.add(x1.mul(IntVector.broadcast(INTS, wp[2 * half + k + 16]).reinterpretAsShorts()));
                    s3 = s3.add(x0.mul(IntVector.broadcast(INTS, wp[3 * half + k]).reinterpretAsShorts()));
                    t3 = t3.add(x1.mul(IntVector.broadcast(INTS, wp[3 * half + k + 16]).reinterpretAsShorts()));
                }
                // Per token, the two 16-bit halves of its int lane added: Σ q·a of each sub-block.
                FloatVector y0 = FloatVector.fromArray(FLOATS, sums, u + (8 * b + j) * width);
                FloatVector y1 = FloatVector.fromArray(FLOATS, sums, u + (8 * b + j + 1) * width);
                IntVector i0 = s0.reinterpretAsInts(), j0 = t0.reinterpretAsInts();
                i0 = i0.lanewise(VectorOperators.ASHR, 16).add(i0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                j0 = j0.lanewise(VectorOperators.ASHR, 16).add(j0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                FloatVector f0 = ((FloatVector) i0.convertShape(VectorOperators.I2F, FLOATS, 0)).mul(FloatVector.broadcast(FLOATS, c[c0 + SUB_SCALES + j]));
                f0 = ((FloatVector) j0.convertShape(VectorOperators.I2F, FLOATS, 0)).fma(FloatVector.broadcast(FLOATS, c[c0 + SUB_SCALES + j + 1]), f0);
                FloatVector m0 = y0.mul(FloatVector.broadcast(FLOATS, c[c0 + MINS + j])).add(y1.mul(FloatVector.broadcast(FLOATS, c[c0 + MINS + j + 1])));
                acc0 = f0.fma(FloatVector.broadcast(FLOATS, c[c0]).mul(da), acc0);
                accMin0 = m0.fma(FloatVector.broadcast(FLOATS, c[c0 + 1]).mul(da), accMin0);
                IntVector i1 = s1.reinterpretAsInts(), j1 = t1.reinterpretAsInts();
                i1 = i1.lanewise(VectorOperators.ASHR, 16).add(i1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                j1 = j1.lanewise(VectorOperators.ASHR, 16).add(j1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                FloatVector f1 = ((FloatVector) i1.convertShape(VectorOperators.I2F, FLOATS, 0)).mul(FloatVector.broadcast(FLOATS, c[c1 + SUB_SCALES + j]));
                f1 = ((FloatVector) j1.convertShape(VectorOperators.I2F, FLOATS, 0)).fma(FloatVector.broadcast(FLOATS, c[c1 + SUB_SCALES + j + 1]), f1);
                FloatVector m1 = y0.mul(FloatVector.broadcast(FLOATS, c[c1 + MINS + j])).add(y1.mul(FloatVector.broadcast(FLOATS, c[c1 + MINS + j + 1])));
                acc1 = f1.fma(FloatVector.broadcast(FLOATS, c[c1]).mul(da), acc1);
                accMin1 = m1.fma(FloatVector.broadcast(FLOATS, c[c1 + 1]).mul(da), accMin1);
                IntVector i2 = s2.reinterpretAsInts(), j2 = t2.reinterpretAsInts();
                i2 = i2.lanewise(VectorOperators.ASHR, 16).add(i2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                j2 = j2.lanewise(VectorOperators.ASHR, 16).add(j2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                FloatVector f2 = ((FloatVector) i2.convertShape(VectorOperators.I2F, FLOATS, 0)).mul(FloatVector.broadcast(FLOATS, c[c2 + SUB_SCALES + j]));
                f2 = ((FloatVector) j2.convertShape(VectorOperators.I2F, FLOATS, 0)).fma(FloatVector.broadcast(FLOATS, c[c2 + SUB_SCALES + j + 1]), f2);
                FloatVector m2 = y0.mul(FloatVector.broadcast(FLOATS, c[c2 + MINS + j])).add(y1.mul(FloatVector.broadcast(FLOATS, c[c2 + MINS + j + 1])));
                acc2 = f2.fma(FloatVector.broadcast(FLOATS, c[c2]).mul(da), acc2);
                accMin2 = m2.fma(FloatVector.broadcast(FLOATS, c[c2 + 1]).mul(da), accMin2);
                IntVector i3 = s3.reinterpretAsInts(), j3 = t3.reinterpretAsInts();
                i3 = i3.lanewise(VectorOperators.ASHR, 16).add(i3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                j3 = j3.lanewise(VectorOperators.ASHR, 16).add(j3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                FloatVector f3 = ((FloatVector) i3.convertShape(VectorOperators.I2F, FLOATS, 0)).mul(FloatVector.broadcast(FLOATS, c[c3 + SUB_SCALES + j]));
                f3 = ((FloatVector) j3.convertShape(VectorOperators.I2F, FLOATS, 0)).fma(FloatVector.broadcast(FLOATS, c[c3 + SUB_SCALES + j + 1]), f3);
                FloatVector m3 = y0.mul(FloatVector.broadcast(FLOATS, c[c3 + MINS + j])).add(y1.mul(FloatVector.broadcast(FLOATS, c[c3 + MINS + j + 1])));
                acc3 = f3.fma(FloatVector.broadcast(FLOATS, c[c3]).mul(da), acc3);
                accMin3 = m3.fma(FloatVector.broadcast(FLOATS, c[c3 + 1]).mul(da), accMin3);
            }
        }
        acc0.sub(accMin0).intoArray(x.partials, 0);
        acc1.sub(accMin1).intoArray(x.partials, width);
        acc2.sub(accMin2).intoArray(x.partials, 2 * width);
        acc3.sub(accMin3).intoArray(x.partials, 3 * width);
    }
}
