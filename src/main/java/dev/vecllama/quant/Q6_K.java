package dev.vecllama.quant;

import static dev.vecllama.quant.VectorMath.B8;
import static dev.vecllama.quant.VectorMath.F8;
import static dev.vecllama.quant.VectorMath.FLOATS;
import static dev.vecllama.quant.VectorMath.I8;
import static dev.vecllama.quant.VectorMath.S16;

import dev.vecllama.activation.Activation;
import dev.vecllama.activation.ActivationKind;
import dev.vecllama.gguf.GGMLType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Super-blocks of 256 weights in 16 groups of 16: ql[128] (low 4 bits), qh[64] (high 2 bits), int8
 * scales[16], then f16 d. Weight = d·scale[g]·(q − 32) with q in 0..63.
 *
 * <p>Each half of 128 weights uses 64 bytes of ql and 32 of qh. Its element l + 32r (r = 0..3, l < 32)
 * takes its low 4 bits from the low (r = 0, 1) or high (r = 2, 3) nibble of ql[l + 32·(r mod 2)] and
 * its high 2 bits from bits 2r, 2r + 1 of qh[l]. Paired with Q8_K activations.
 *
 * <p>Float order: llama.cpp's x86 ggml_vec_dot_q6_K_q8_K (AVX2 path; Q6_K is not repacked on x86)
 * sums each super-block into 8 int32 lanes, lane l holding elements 4l .. 4l + 3 of every run of 32
 * (its maddubs + madd), then {@code acc = fma(d_a·d, (float) sumi, acc)} per lane, super-blocks in
 * order, and {@link VectorMath#hsum8}. Both paths below compute exactly that.
 */
public final class Q6_K implements RowKernel, LaneKernel {
    public static final Q6_K INSTANCE = new Q6_K();

    static final int BLOCK = 256;
    static final int BLOCK_BYTES = 210;
    private static final int QL = 0, QH = 128, SCALES = 192, D = 208;

    /** Bits 6 and 7 of both bytes: where {@link #dot} builds a code's high 2 bits. */
    private static final ShortVector HIGH_BITS = ShortVector.broadcast(S16, (short) 0xC0C0);
    /** The upper bit of every 2-bit field of qh: bit 5 of each code. */
    private static final ShortVector TOP_BITS = ShortVector.broadcast(S16, (short) 0xAAAA);
    private static final ByteVector NIBBLE = ByteVector.broadcast(B8, (byte) 0x0F);
    private static final ByteVector TWO = ByteVector.broadcast(B8, (byte) 3);
    private static final FloatVector FLOAT_OFFSET = FloatVector.broadcast(F8, 32f);

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

    /**
     * Reads 8 codes at a time, with {@link #code}'s layout: element l + k of run r of a half (l a
     * multiple of 8, k &lt; 8) is byte k of the 8 at ql[l + 32·(r mod 2)] (its high nibble for r ≥ 2)
     * and of the 8 at qh[l] (bits 2r, 2r + 1). This runs for real until the vector kernels are
     * compiled, and three reads from a mapped file per weight made it a fifth of a tiny model's first
     * prompt.
     */
    @Override
    public float dotReference(MemorySegment w, long offset, Activation a, int n) {
        float[] acc = new float[8];
        int[] sumi = new int[8];
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            java.util.Arrays.fill(sumi, 0);
            long scales = w.get(LittleEndian.LONG, o + SCALES), scalesHigh = w.get(LittleEndian.LONG, o + SCALES + 8);
            for (int half = 0; half < 2; half++) {
                for (int l = 0; l < 32; l += 8) {
                    long qh = w.get(LittleEndian.LONG, o + QH + 32 * half + l);
                    for (int r = 0; r < 4; r++) {
                        long ql = w.get(LittleEndian.LONG, o + QL + 64 * half + 32 * (r & 1) + l) >>> (4 * (r >> 1));
                        int g = 8 * half + 2 * r + l / 16;
                        int sc = (byte) ((g < 8 ? scales : scalesHigh) >>> (8 * (g & 7)));
                        for (int k = 0; k < 8; k++) {
                            int q = (int) (ql >>> (8 * k) & 0x0F) | (int) (qh >>> (8 * k + 2 * r) & 3) << 4;
                            sumi[(l + k) / 4] += sc * (q - 32) * a.q[b * BLOCK + 128 * half + 32 * r + l + k];
                        }
                    }
                }
            }
            float d = a.scale[b] * Half.f16(w, o + D);
            for (int l = 0; l < 8; l++) acc[l] = Math.fma(d, (float) sumi[l], acc[l]);
        }
        return VectorMath.hsum8(acc);
    }

    @Override
    public void dotRows(MemorySegment w, long offset, long rowBytes, Activation a, int n, float[] out, int r0, int r1) {
        if (VectorMath.BITS == 512) {
            dotRowsWide(w, offset, rowBytes, a, n, out, r0, r1);
        } else {
            for (int r = r0; r < r1; r++) out[r] = dotNarrow(w, offset + r * rowBytes, a, n);
        }
    }

    private static final VectorSpecies<Short> WIDE = ShortVector.SPECIES_512;
    private static final VectorSpecies<Integer> WIDE_INTS = IntVector.SPECIES_512;
    private static final VectorSpecies<Float> WIDE_FLOATS = FloatVector.SPECIES_512;
    private static final ShortVector WIDE_HIGH_BITS = ShortVector.broadcast(WIDE, (short) 0xC0C0);
    private static final ShortVector WIDE_TOP_BITS = ShortVector.broadcast(WIDE, (short) 0xAAAA);
    // Shift counts as vectors: C2 has no immediate form for 16-bit lane shifts and rebuilt each
    // scalar count in a register before every shift.
    private static final ShortVector TWO_V = ShortVector.broadcast(WIDE, (short) 2);
    private static final ShortVector EIGHT_V = ShortVector.broadcast(WIDE, (short) 8);
    private static final ShortVector TEN_V = ShortVector.broadcast(WIDE, (short) 10);
    /** Int lanes 8..15 (a pair's odd run) onto 0..7; the upper lanes' contents do not matter. */
    private static final VectorShuffle<Integer> UPPER_RUNS = VectorShuffle.fromOp(WIDE_INTS, i -> (i + 8) % 16);
    /** {@link VectorMath#hsum8}'s two lane folds, on the low 8 of 16 float lanes. */
    private static final VectorShuffle<Float> UPPER_HALF = VectorShuffle.fromOp(WIDE_FLOATS, i -> i ^ 4), UPPER_PAIR = VectorShuffle.fromOp(WIDE_FLOATS, i -> i ^ 2);
    /** For half h, short lane i takes qh's lane 16h + i mod 16: the half's 32 bytes of qh, twice. */
    private static final short[] HALF_QH = new short[64];
    /**
     * How far qh's lanes move left to put run r's 2-bit field (bits 2r, 2r + 1) in bits 6, 7 of both
     * bytes: runs 0 and 1 for the pair of low nibbles, 2 and 3 for the high.
     */
    private static final ShortVector LOW_PAIR_QH_SHIFT, HIGH_PAIR_QH_SHIFT;
    /** Which of a half's 8 group scales each int lane of a pair takes: lanes 4k .. 4k + 3 take group k (+ 4 for the high pair). */
    private static final IntVector LOW_PAIR_GROUPS = IntVector.fromArray(WIDE_INTS, new int[] {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3}, 0),
            HIGH_PAIR_GROUPS = LOW_PAIR_GROUPS.add(4);

    static {
        short[] low = new short[32], high = new short[32];
        for (int i = 0; i < 64; i++) HALF_QH[i] = (short) (16 * (i / 32) + i % 16);
        for (int i = 0; i < 32; i++) {
            low[i] = (short) (i < 16 ? 6 : 4);
            high[i] = (short) (i < 16 ? 2 : 0);
        }
        LOW_PAIR_QH_SHIFT = ShortVector.fromArray(WIDE, low, 0);
        HIGH_PAIR_QH_SHIFT = ShortVector.fromArray(WIDE, high, 0);
    }

    /**
     * The 512-bit path ({@link RowKernel}: a small model's output projection is one super-block a
     * row). One vector holds a pair of runs of a half, as {@link #dotNarrow} holds one
     * run in 256 bits: runs 0, 1 (low nibbles of the half's 64 bytes of ql) or runs 2, 3 (high
     * nibbles), with their high 2 bits from the half's qh, which a lane select puts in both halves
     * of the vector. Int lanes 8..15 hold the odd run's sums of 4 and are folded onto lanes 0..7 per
     * super-block, so each int lane ends with {@link #dotNarrow}'s exact total and the floats are the
     * same.
     *
     * <p>The loops over halves and over a half's two pairs have two iterations each, which C2 unrolls
     * fully, so every vector constant (shift counts, lane indexes) stays in a register; a loop over
     * the four pairs, with its shift counts and lane indexes read from arrays, ran at 9.6 GB/s against
     * 16 (2048 × 4000, one thread). Written out by hand instead, the pairs passed C2's inlining budget
     * in some runs (the Vector API calls of the second copy were then left out of line: 4× slower). The
     * block is written here rather than in a helper, which C2 finds too big to inline.
     */
    private static void dotRowsWide(MemorySegment w, long offset, long rowBytes, Activation a, int n, float[] out, int r0, int r1) {
        for (int r = r0; r < r1; r++) {
            FloatVector acc = FloatVector.zero(WIDE_FLOATS);
            for (int b = 0; b < n / BLOCK; b++) {
                long o = offset + r * rowBytes + (long) b * BLOCK_BYTES;
                // Read before the pairs, so that C2 parses its helper while the inlining budget lasts.
                float d = a.scale[b] * Half.f16Tail(w, o + D);
                ShortVector qh = ShortVector.fromMemorySegment(WIDE, w, o + QH, ByteOrder.LITTLE_ENDIAN).lanewise(VectorOperators.XOR, WIDE_TOP_BITS);
                IntVector sumi = IntVector.zero(WIDE_INTS);
                for (int h = 0; h < 2; h++) {
                    IntVector scales = (IntVector) ByteVector.fromMemorySegment(ByteVector.SPECIES_64, w, o + SCALES + 8 * h, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, WIDE_INTS, 0);
                    ShortVector ql = ShortVector.fromMemorySegment(WIDE, w, o + QL + 64 * h, ByteOrder.LITTLE_ENDIAN);
                    ShortVector high = ShortVector.fromArray(WIDE, HALF_QH, 32 * h).selectFrom(qh);
                    ShortVector lowNibbles = ql.lanewise(VectorOperators.LSHL, TWO_V), highNibbles = ql.lanewise(VectorOperators.LSHR, TWO_V);
                    for (int j = 0; j < 2; j++) {
                        int k = (b * BLOCK + 128 * h + 64 * j) / 2;
                        ShortVector q6 = (j == 0 ? lowNibbles : highNibbles).lanewise(VectorOperators.BITWISE_BLEND,
                                high.lanewise(VectorOperators.LSHL, j == 0 ? LOW_PAIR_QH_SHIFT : HIGH_PAIR_QH_SHIFT), WIDE_HIGH_BITS);
                        ShortVector products = q6.lanewise(VectorOperators.LSHL, EIGHT_V).lanewise(VectorOperators.ASHR, TEN_V).mul(ShortVector.fromArray(WIDE, a.evens, k))
                                .add(q6.lanewise(VectorOperators.ASHR, TEN_V).mul(ShortVector.fromArray(WIDE, a.odds, k)));
                        IntVector x = (IntVector) products.reinterpretShape(WIDE_INTS, 0);
                        IntVector sums = x.add(x.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                        sumi = sumi.add(sums.mul((j == 0 ? LOW_PAIR_GROUPS : HIGH_PAIR_GROUPS).selectFrom(scales)));
                    }
                }
                IntVector total = sumi.add(sumi.rearrange(UPPER_RUNS));
                acc = ((FloatVector) total.convertShape(VectorOperators.I2F, WIDE_FLOATS, 0)).fma(FloatVector.broadcast(WIDE_FLOATS, d), acc);
            }
            // VectorMath.hsum8's folds on the low 8 of 16 lanes, written out: past C2's inlining
            // budget our helpers are no longer inlined (the accumulator was boxed for the call), the
            // Vector API's still are.
            FloatVector folded = acc.add(acc.rearrange(UPPER_HALF));
            folded = folded.add(folded.rearrange(UPPER_PAIR));
            out[r] = folded.lane(0) + folded.lane(1);
        }
    }

    /** At 256 bits and below: one run of 32 codes per vector. */
    private static float dotNarrow(MemorySegment w, long offset, Activation a, int n) {
        FloatVector acc = FloatVector.zero(F8);
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            IntVector sumi = IntVector.zero(I8);
            // Run c: elements 32c .. 32c + 31, which share one quarter of a half, as (q − 32)·a summed
            // into the 8 lanes VectorMath.quadSums describes. Two codes share a 16-bit lane, each built in
            // bits 2..7 of its byte (nibble in 2..5, high bits in 6..7, one blend) so that arithmetic
            // shifts both extract it and sign it: with bit 5 of q flipped (once per half, in qh), the signed
            // 6-bit value is q − 32. An even and an odd product add up to at most 2·32·127, so two such
            // lanes still fit in 16 bits and pairSum8's shorter form applies. Written here, not in a
            // helper: dot → helper → pairSum8 is one level of ours too many for C2.
            for (int half = 0; half < 2; half++) {
                // The half's 8 group scales in one vector read: scalar reads from the mapped file cost
                // several times a vector read in this loop.
                IntVector halfScales = scales(w, o + SCALES + 8 * half);
                ShortVector qh = ShortVector.fromMemorySegment(S16, w, o + QH + 32 * half, ByteOrder.LITTLE_ENDIAN).lanewise(VectorOperators.XOR, TOP_BITS);
                for (int r = 0; r < 4; r++) {
                    ShortVector ql = ShortVector.fromMemorySegment(S16, w, o + QL + 64 * half + 32 * (r & 1), ByteOrder.LITTLE_ENDIAN);
                    ShortVector q6 = (r < 2 ? ql.lanewise(VectorOperators.LSHL, 2) : ql.lanewise(VectorOperators.LSHR, 2))
                            .lanewise(VectorOperators.BITWISE_BLEND, qh.lanewise(VectorOperators.LSHL, 6 - 2 * r), HIGH_BITS);
                    int k = (b * BLOCK + 128 * half + 32 * r) / 2;
                    IntVector run = VectorMath.pairSum8(q6.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 10).mul(ShortVector.fromArray(S16, a.evens, k))
                            .add(q6.lanewise(VectorOperators.ASHR, 10).mul(ShortVector.fromArray(S16, a.odds, k))));
                    sumi = sumi.add(run.mul(IntVector.fromArray(I8, GROUP_LANES, 8 * r).selectFrom(halfScales)));
                }
            }
            acc = VectorMath.toFloat8(sumi).fma(FloatVector.broadcast(F8, a.scale[b] * Half.f16Tail(w, o + D)), acc);
        }
        return VectorMath.hsum8(acc);
    }

    /** 8 int8 scales at {@code off}, widened. (Widening the upper half of a 16-byte load is not intrinsified everywhere.) */
    private static IntVector scales(MemorySegment w, long off) {
        return (IntVector) ByteVector.fromMemorySegment(VectorMath.B8, w, off, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, I8, 0);
    }

    /**
     * For run r of a half, which of the half's 8 group scales each of its 8 lanes takes: lanes 0..3
     * hold elements of group 2r, lanes 4..7 of group 2r + 1.
     */
    private static final int[] GROUP_LANES = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7};

    /** 96, as {@link Q4_K#tokenTile}: the two share Q4_K_M files' regions, which take the smaller tile. */
    @Override
    public int tokenTile() {
        return 96;
    }

    /**
     * Lane t follows {@link #dot} for token t: per super-block, 8 sums (lane l: elements 4l .. 4l + 3
     * of each of the 8 runs of 32) of scale·(q − 32)·a, exact (32 products of at most 128·32·127 stay
     * below 2^24), each fma'd with d_a·d into its own accumulator, then {@link VectorMath#hsum8}'s order.
     */
    @Override
    public void matmul(MemorySegment w, long rowBytes, int cols, TokenLanes x, float[][] out, int r0, int r1) {
        x.matmulGroupPairs(w, rowBytes, cols, cols / BLOCK, 1, out, r0, r1, Q6_K::unpackRow,
                (t, g, n, o, r, last) -> dotLaneQuads(t, g, g + 1, n, o, r, last), (t, g, n, o, r, last) -> dotLaneQuads(t, g, g, n, o, r, last));
    }

    /** A row's weights as floats scale·(q − 32) (exact integers) into {@code wf[o ..]}, each super-block's d into {@code d[od ..]}. */
    private static void unpackRow(MemorySegment w, long off, int blocks, float[] wf, int o, float[] d, int od) {
        for (int b = 0; b < blocks; b++) {
            long p = off + (long) b * BLOCK_BYTES;
            d[od + b] = Half.f16Tail(w, p + D);
            for (int half = 0; half < 2; half++) {
                for (int r = 0; r < 4; r++) {
                    for (int k = 0; k < 32; k += B8.length()) {
                        ByteVector ql = ByteVector.fromMemorySegment(B8, w, p + QL + 64 * half + 32 * (r & 1) + k, ByteOrder.LITTLE_ENDIAN);
                        ByteVector qh = ByteVector.fromMemorySegment(B8, w, p + QH + 32 * half + k, ByteOrder.LITTLE_ENDIAN);
                        ByteVector q = ql.lanewise(VectorOperators.LSHR, 4 * (r >> 1)).and(NIBBLE)
                                .or(qh.lanewise(VectorOperators.LSHR, 2 * r).and(TWO).lanewise(VectorOperators.LSHL, 4));
                        float scale = w.get(ValueLayout.JAVA_BYTE, p + SCALES + 8 * half + 2 * r + k / 16);
                        ((FloatVector) q.convertShape(VectorOperators.B2F, F8, 0)).sub(FLOAT_OFFSET).mul(scale)
                                .intoArray(wf, o + b * BLOCK + 128 * half + 32 * r + k);
                    }
                }
            }
        }
    }

    /**
     * Groups g and g2 of the tile's tokens against its 4 unpacked rows (rows r .. last, the last
     * repeated past it): 8 accumulators per row and group, accumulator l taking elements 4l .. 4l + 3
     * of each run of 32, with one d per super-block; a lone group runs as g2 = g, computed twice. Each
     * token vector loaded serves 4 rows and each weight broadcast 2 groups, as in
     * {@link Q8_0#dotLaneQuads}. One chain per row and group: the integer-valued sums are exact in any
     * order.
     */
    private static void dotLaneQuads(TokenLanes x, int g, int g2, int n, float[][] out, int r, int last) {
        int blocks = n / BLOCK, width = TokenLanes.WIDTH, n2 = 2 * n, n3 = 3 * n;
        float[] wf = x.rows, d = x.rowConstants, at = x.values;
        int v = g * n * width, s = g * blocks * width, v2 = g2 * n * width, s2 = g2 * blocks * width;
        FloatVector zero = FloatVector.zero(FLOATS);
        for (int l = 0; l < 8; l++) {
            // a_i: row i against group g; c_i: against group g2.
            FloatVector a0 = zero, a1 = zero, a2 = zero, a3 = zero, c0 = zero, c1 = zero, c2 = zero, c3 = zero;
            for (int b = 0; b < blocks; b++) {
                FloatVector p0 = zero, p1 = zero, p2 = zero, p3 = zero, q0 = zero, q1 = zero, q2 = zero, q3 = zero, x0, y0, w;
                for (int k = b * BLOCK + 4 * l; k < (b + 1) * BLOCK; k += 32) {
                    x0 = FloatVector.fromArray(FLOATS, at, v + k * width);
                    y0 = FloatVector.fromArray(FLOATS, at, v2 + k * width);
                    w = FloatVector.broadcast(FLOATS, wf[k]);
                    p0 = x0.fma(w, p0);
                    q0 = y0.fma(w, q0);
                    w = FloatVector.broadcast(FLOATS, wf[n + k]);
                    p1 = x0.fma(w, p1);
                    q1 = y0.fma(w, q1);
                    w = FloatVector.broadcast(FLOATS, wf[n2 + k]);
                    p2 = x0.fma(w, p2);
                    q2 = y0.fma(w, q2);
                    w = FloatVector.broadcast(FLOATS, wf[n3 + k]);
                    p3 = x0.fma(w, p3);
                    q3 = y0.fma(w, q3);
                    x0 = FloatVector.fromArray(FLOATS, at, v + (k + 1) * width);
                    y0 = FloatVector.fromArray(FLOATS, at, v2 + (k + 1) * width);
                    w = FloatVector.broadcast(FLOATS, wf[k + 1]);
                    p0 = x0.fma(w, p0);
                    q0 = y0.fma(w, q0);
                    w = FloatVector.broadcast(FLOATS, wf[n + k + 1]);
                    p1 = x0.fma(w, p1);
                    q1 = y0.fma(w, q1);
                    w = FloatVector.broadcast(FLOATS, wf[n2 + k + 1]);
                    p2 = x0.fma(w, p2);
                    q2 = y0.fma(w, q2);
                    w = FloatVector.broadcast(FLOATS, wf[n3 + k + 1]);
                    p3 = x0.fma(w, p3);
                    q3 = y0.fma(w, q3);
                    x0 = FloatVector.fromArray(FLOATS, at, v + (k + 2) * width);
                    y0 = FloatVector.fromArray(FLOATS, at, v2 + (k + 2) * width);
                    w = FloatVector.broadcast(FLOATS, wf[k + 2]);
                    p0 = x0.fma(w, p0);
                    q0 = y0.fma(w, q0);
                    w = FloatVector.broadcast(FLOATS, wf[n + k + 2]);
                    p1 = x0.fma(w, p1);
                    q1 = y0.fma(w, q1);
                    w = FloatVector.broadcast(FLOATS, wf[n2 + k + 2]);
                    p2 = x0.fma(w, p2);
                    q2 = y0.fma(w, q2);
                    w = FloatVector.broadcast(FLOATS, wf[n3 + k + 2]);
                    p3 = x0.fma(w, p3);
                    q3 = y0.fma(w, q3);
                    x0 = FloatVector.fromArray(FLOATS, at, v + (k + 3) * width);
                    y0 = FloatVector.fromArray(FLOATS, at, v2 + (k + 3) * width);
                    w = FloatVector.broadcast(FLOATS, wf[k + 3]);
                    p0 = x0.fma(w, p0);
                    q0 = y0.fma(w, q0);
                    w = FloatVector.broadcast(FLOATS, wf[n + k + 3]);
                    p1 = x0.fma(w, p1);
                    q1 = y0.fma(w, q1);
                    w = FloatVector.broadcast(FLOATS, wf[n2 + k + 3]);
                    p2 = x0.fma(w, p2);
                    q2 = y0.fma(w, q2);
                    w = FloatVector.broadcast(FLOATS, wf[n3 + k + 3]);
                    p3 = x0.fma(w, p3);
                    q3 = y0.fma(w, q3);
                }
                FloatVector da = FloatVector.fromArray(FLOATS, x.scales, s + b * width), db = FloatVector.fromArray(FLOATS, x.scales, s2 + b * width);
                FloatVector dw = FloatVector.broadcast(FLOATS, d[b]);
                a0 = p0.fma(da.mul(dw), a0);
                c0 = q0.fma(db.mul(dw), c0);
                dw = FloatVector.broadcast(FLOATS, d[blocks + b]);
                a1 = p1.fma(da.mul(dw), a1);
                c1 = q1.fma(db.mul(dw), c1);
                dw = FloatVector.broadcast(FLOATS, d[2 * blocks + b]);
                a2 = p2.fma(da.mul(dw), a2);
                c2 = q2.fma(db.mul(dw), c2);
                dw = FloatVector.broadcast(FLOATS, d[3 * blocks + b]);
                a3 = p3.fma(da.mul(dw), a3);
                c3 = q3.fma(db.mul(dw), c3);
            }
            a0.intoArray(x.partials, l * width);
            a1.intoArray(x.partials, (8 + l) * width);
            a2.intoArray(x.partials, (16 + l) * width);
            a3.intoArray(x.partials, (24 + l) * width);
            c0.intoArray(x.partials, (32 + l) * width);
            c1.intoArray(x.partials, (40 + l) * width);
            c2.intoArray(x.partials, (48 + l) * width);
            c3.intoArray(x.partials, (56 + l) * width);
        }
        x.storeHsum8Quads(out, g, g2, r, last);
    }
}
