package dev.vecllama.quant;

import static dev.vecllama.quant.VectorMath.B8;
import static dev.vecllama.quant.VectorMath.F8;
import static dev.vecllama.quant.VectorMath.FLOATS;
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
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Blocks of 32 weights: an f16 scale d, then 32 int8 q; weight = d·q. Paired with Q8_0 activations.
 *
 * <p>Float order: llama.cpp's x86 Q8_0 × Q8_0 matmul runs through llamafile's tinyBLAS_Q0_AVX. Per
 * output it keeps 8 float lanes; for each block, lane l takes the int32 sum of the 4 products of
 * elements 4l .. 4l + 3 and does {@code acc[l] = fma(d_w·d_a, isum_l, acc[l])}, blocks in order; the
 * result is {@link VectorMath#hsum8} of the lanes. Every path below (a block at a time, two blocks at
 * a time at 512 bits, and the lane kernel) computes exactly that, so they agree bit for bit with each
 * other and with llama.cpp.
 */
public final class Q8_0 implements RowKernel, LaneKernel {
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
                // A lane's 4 weights in one read: this runs for real until the vector kernels are
                // compiled, and a read from a mapped file per weight was most of a first long prompt.
                int four = w.get(LittleEndian.INT, o + QS + 4 * l), isum = 0;
                for (int k = 0; k < 4; k++) isum += (byte) (four >>> 8 * k) * a.q[b * BLOCK + 4 * l + k];
                acc[l] = Math.fma(d, (float) isum, acc[l]);
            }
        }
        return VectorMath.hsum8(acc);
    }

    @Override
    public void dotRows(MemorySegment w, long offset, long rowBytes, Activation a, int n, float[] out, int r0, int r1) {
        if (VectorMath.BITS == 512 && (n / BLOCK) % 2 == 0) {
            dotRowsWide(w, offset, rowBytes, a, n, out, r0, r1);
            return;
        }
        int d = RowKernel.pairDistance(r0, r1);
        for (int r = r0; r < r0 + d; r++) {
            int r2 = RowKernel.partner(r, d, r1);
            long o = offset + r * rowBytes, o2 = offset + r2 * rowBytes;
            FloatVector acc = FloatVector.zero(F8), acc2 = acc;
            for (int b = 0; b < n / BLOCK; b++, o += BLOCK_BYTES, o2 += BLOCK_BYTES) {
                int k = b * BLOCK / 2;
                ShortVector q = ShortVector.fromMemorySegment(S16, w, o + QS, ByteOrder.LITTLE_ENDIAN);
                ShortVector q2 = ShortVector.fromMemorySegment(S16, w, o2 + QS, ByteOrder.LITTLE_ENDIAN);
                IntVector isum = VectorMath.quadSums(VectorMath.evenInt8(q), VectorMath.oddInt8(q), a.evens, a.odds, k);
                IntVector isum2 = VectorMath.quadSums(VectorMath.evenInt8(q2), VectorMath.oddInt8(q2), a.evens, a.odds, k);
                acc = VectorMath.toFloat8(isum).fma(FloatVector.broadcast(F8, Half.f16Head(w, o) * a.scale[b]), acc);
                acc2 = VectorMath.toFloat8(isum2).fma(FloatVector.broadcast(F8, Half.f16Head(w, o2) * a.scale[b]), acc2);
            }
            out[r] = VectorMath.hsum8(acc);
            out[r2] = VectorMath.hsum8(acc2);
        }
    }

    /**
     * {@link #dotRows} at 512 bits, for rows of whole pairs of blocks: the integer work of two blocks in
     * one vector, then each block's float step in turn, as one block at a time does them. One row at a
     * time: each activation vector loaded serves two blocks, where at 256 bits it served two rows. A
     * compilation root of its own: beside the 256-bit loop in one method, or taking rows in pairs,
     * C2's inlining budget ran out and its FMAs ran in the Java fallback.
     */
    private static void dotRowsWide(MemorySegment w, long offset, long rowBytes, Activation a, int n, float[] out, int r0, int r1) {
        for (int r = r0; r < r1; r++) {
            long o = offset + r * rowBytes;
            FloatVector acc = FloatVector.zero(F8);
            for (int b = 0; b < n / BLOCK; b += 2, o += 2 * BLOCK_BYTES) {
                ShortVector q = blockPair(w, o);
                FloatVector f = VectorMath.toFloat16(VectorMath.quadSums(VectorMath.evenInt8(q), VectorMath.oddInt8(q), a.evens, a.odds, b * BLOCK / 2));
                // The two blocks' float steps as a loop, parsed once, to stay clear of C2's inlining budget.
                for (int h = 0; h < 2; h++) {
                    FloatVector sums = h == 0 ? VectorMath.lowerHalf(f) : VectorMath.upperHalf(f);
                    acc = sums.fma(FloatVector.broadcast(F8, Half.f16Head(w, o + h * BLOCK_BYTES) * a.scale[b + h]), acc);
                }
            }
            out[r] = VectorMath.hsum8(acc);
        }
    }

    private static final VectorSpecies<Short> PAIR = ShortVector.SPECIES_512;
    private static final VectorMask<Short> SECOND_BLOCK = VectorMask.fromLong(PAIR, 0xFFFF_0000L);

    /**
     * The 64 int8 weights of the blocks at o and o + 34, as one vector: the first block's from a load
     * 2 bytes in (past its scale), the second's from a load 4 bytes in (past both scales), which ends
     * where the second block does.
     */
    private static ShortVector blockPair(MemorySegment w, long o) {
        return ShortVector.fromMemorySegment(PAIR, w, o + QS, ByteOrder.LITTLE_ENDIAN)
                .blend(ShortVector.fromMemorySegment(PAIR, w, o + 2 * QS, ByteOrder.LITTLE_ENDIAN), SECOND_BLOCK);
    }

    /**
     * 32: its lanes hold floats, so 64 tokens of a 5632-wide input (an FFN's down projection) are
     * 1.4 MiB, past L2, and unpacking a row of int8 is cheap next to the FMAs it feeds. 1.1B Q8_0
     * pp128, medians of four alternated runs: @1 24.0 -> 28.7 tok/s, @2 46.2 -> 52.5. (Q4_K, whose
     * rows cost more to unpack and whose lanes are 16-bit pairs, lost at 32: 1.1B Q4_K_M @2 85.7 ->
     * 80.7; Q4_0, whose lane kernel is this one, was within noise: @2 47.4 -> 49.1.)
     */
    @Override
    public int tokenTile() {
        return 32;
    }

    /**
     * Lane t follows {@link #dot} for token t: per block, 8 sums of 4 products (exact, at most
     * 4·128·127), each fma'd with d_w·d_a into its own accumulator, then {@link VectorMath#hsum8}'s order.
     */
    @Override
    public void matmul(MemorySegment w, long rowBytes, int cols, TokenLanes x, float[][] out, int r0, int r1) {
        x.matmulGroupPairs(w, rowBytes, cols, cols / BLOCK, 1, out, r0, r1, Q8_0::unpackRow,
                (t, g, n, o, r, last) -> dotLaneQuads(t, g, g + 1, n, o, r, last, IN_ORDER), (t, g, n, o, r, last) -> dotLaneQuads(t, g, g, n, o, r, last, IN_ORDER));
    }

    /**
     * Bytes {@link #unpackRow} converts at a time: 16 into a 512-bit vector where the kernels' floats
     * are that wide (8 at a time, it was 5-7% of a tiny Q8_0 model's prompt), else 8 into 256 bits.
     */
    private static final VectorSpecies<Byte> UNPACK_BYTES = FLOATS.length() >= 16 ? ByteVector.SPECIES_128 : B8;
    private static final VectorSpecies<Float> UNPACK_FLOATS = FLOATS.length() >= 16 ? FloatVector.SPECIES_512 : F8;

    /** A row's weights as floats into {@code wf[o ..]}, its block scales into {@code d[od ..]}. */
    private static void unpackRow(MemorySegment w, long off, int blocks, float[] wf, int o, float[] d, int od) {
        for (int b = 0; b < blocks; b++) {
            long p = off + (long) b * BLOCK_BYTES;
            d[od + b] = Half.f16Head(w, p);
            for (int c = 0; c < BLOCK; c += UNPACK_BYTES.length()) {
                ByteVector q = ByteVector.fromMemorySegment(UNPACK_BYTES, w, p + QS + c, ByteOrder.LITTLE_ENDIAN);
                ((FloatVector) q.convertShape(VectorOperators.B2F, UNPACK_FLOATS, 0)).intoArray(wf, o + b * BLOCK + c);
            }
        }
    }

    /** Accumulator l of a block takes its elements 4l .. 4l + 3. */
    private static final int[] IN_ORDER = java.util.stream.IntStream.range(0, BLOCK).toArray();

    /**
     * Per block, d_w·d_a of each of the 4 unpacked rows against groups g and g2, at
     * {@code ((8b + 4h + i)·WIDTH ..)} for row i and group h: the same products for all 8 accumulators
     * of a block, formed once instead of in each of their loops.
     */
    private static float[] blockScales(TokenLanes x, int g, int g2, int blocks) {
        int width = TokenLanes.WIDTH;
        float[] d = x.rowConstants, ds = x.blockScales(8 * blocks * width);
        for (int b = 0; b < blocks; b++) {
            FloatVector da = FloatVector.fromArray(FLOATS, x.scales, (g * blocks + b) * width), db = FloatVector.fromArray(FLOATS, x.scales, (g2 * blocks + b) * width);
            for (int i = 0; i < TokenLanes.TILE_ROWS; i++) {
                FloatVector dw = FloatVector.broadcast(FLOATS, d[i * blocks + b]);
                dw.mul(da).intoArray(ds, (8 * b + i) * width);
                dw.mul(db).intoArray(ds, (8 * b + 4 + i) * width);
            }
        }
        return ds;
    }

    /**
     * Groups g and g2 of the tile's tokens against its 4 unpacked rows (rows r .. last, the last
     * repeated past it), for the formats with blocks of 32 and 8 accumulators per row, each taking 4
     * elements of every block: accumulator l the elements {@code order[4l .. 4l + 3]}. A lone group
     * runs as g2 = g, computed twice.
     *
     * <p>Each element of a step loads 2 token vectors and broadcasts 4 weights for 8 FMAs; with 2 rows
     * a tile it was 2 and 2 for 4, and the kernel waited on its loads (JMH, 2048×5632, 128 tokens, one
     * thread: 53–60 → 58–66 GFLOP/s). It is now bound by its float operations, 32 FMAs of products and
     * 8 of block scales a step: forming d_w·d_a once per tile ({@link #blockScales}) rather than in
     * each accumulator's loop measured 54–56 → 57–59. The elements of a step are written out: as a
     * loop over them, reading their offsets from {@code order} inside it, the 2-row kernel ran 42–55
     * GFLOP/s instead of 57–75.
     */
    static void dotLaneQuads(TokenLanes x, int g, int g2, int n, float[][] out, int r, int last, int[] order) {
        int blocks = n / BLOCK, width = TokenLanes.WIDTH;
        float[] wf = x.rows, at = x.values, ds = blockScales(x, g, g2, blocks);
        int v = g * n * width, v2 = g2 * n * width, n2 = 2 * n, n3 = 3 * n;
        for (int l = 0; l < 8; l++) {
            // a_i: row i against group g; c_i: against group g2.
            FloatVector a0 = FloatVector.zero(FLOATS), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
            int e0 = order[4 * l], e1 = order[4 * l + 1], e2 = order[4 * l + 2], e3 = order[4 * l + 3];
            for (int b = 0; b < blocks; b++) {
                int k = b * BLOCK;
                FloatVector x0 = FloatVector.fromArray(FLOATS, at, v + (k + e0) * width), y0 = FloatVector.fromArray(FLOATS, at, v2 + (k + e0) * width);
                FloatVector w = FloatVector.broadcast(FLOATS, wf[k + e0]);
                FloatVector p0 = x0.mul(w), q0 = y0.mul(w);
                w = FloatVector.broadcast(FLOATS, wf[n + k + e0]);
                FloatVector p1 = x0.mul(w), q1 = y0.mul(w);
                w = FloatVector.broadcast(FLOATS, wf[n2 + k + e0]);
                FloatVector p2 = x0.mul(w), q2 = y0.mul(w);
                w = FloatVector.broadcast(FLOATS, wf[n3 + k + e0]);
                FloatVector p3 = x0.mul(w), q3 = y0.mul(w);
                x0 = FloatVector.fromArray(FLOATS, at, v + (k + e1) * width);
                y0 = FloatVector.fromArray(FLOATS, at, v2 + (k + e1) * width);
                w = FloatVector.broadcast(FLOATS, wf[k + e1]);
                p0 = x0.fma(w, p0);
                q0 = y0.fma(w, q0);
                w = FloatVector.broadcast(FLOATS, wf[n + k + e1]);
                p1 = x0.fma(w, p1);
                q1 = y0.fma(w, q1);
                w = FloatVector.broadcast(FLOATS, wf[n2 + k + e1]);
                p2 = x0.fma(w, p2);
                q2 = y0.fma(w, q2);
                w = FloatVector.broadcast(FLOATS, wf[n3 + k + e1]);
                p3 = x0.fma(w, p3);
                q3 = y0.fma(w, q3);
                x0 = FloatVector.fromArray(FLOATS, at, v + (k + e2) * width);
                y0 = FloatVector.fromArray(FLOATS, at, v2 + (k + e2) * width);
                w = FloatVector.broadcast(FLOATS, wf[k + e2]);
                p0 = x0.fma(w, p0);
                q0 = y0.fma(w, q0);
                w = FloatVector.broadcast(FLOATS, wf[n + k + e2]);
                p1 = x0.fma(w, p1);
                q1 = y0.fma(w, q1);
                w = FloatVector.broadcast(FLOATS, wf[n2 + k + e2]);
                p2 = x0.fma(w, p2);
                q2 = y0.fma(w, q2);
                w = FloatVector.broadcast(FLOATS, wf[n3 + k + e2]);
                p3 = x0.fma(w, p3);
                q3 = y0.fma(w, q3);
                x0 = FloatVector.fromArray(FLOATS, at, v + (k + e3) * width);
                y0 = FloatVector.fromArray(FLOATS, at, v2 + (k + e3) * width);
                w = FloatVector.broadcast(FLOATS, wf[k + e3]);
                p0 = x0.fma(w, p0);
                q0 = y0.fma(w, q0);
                w = FloatVector.broadcast(FLOATS, wf[n + k + e3]);
                p1 = x0.fma(w, p1);
                q1 = y0.fma(w, q1);
                w = FloatVector.broadcast(FLOATS, wf[n2 + k + e3]);
                p2 = x0.fma(w, p2);
                q2 = y0.fma(w, q2);
                w = FloatVector.broadcast(FLOATS, wf[n3 + k + e3]);
                p3 = x0.fma(w, p3);
                q3 = y0.fma(w, q3);
                int o = 8 * b * width;
                a0 = p0.fma(FloatVector.fromArray(FLOATS, ds, o), a0);
                a1 = p1.fma(FloatVector.fromArray(FLOATS, ds, o + width), a1);
                a2 = p2.fma(FloatVector.fromArray(FLOATS, ds, o + 2 * width), a2);
                a3 = p3.fma(FloatVector.fromArray(FLOATS, ds, o + 3 * width), a3);
                c0 = q0.fma(FloatVector.fromArray(FLOATS, ds, o + 4 * width), c0);
                c1 = q1.fma(FloatVector.fromArray(FLOATS, ds, o + 5 * width), c1);
                c2 = q2.fma(FloatVector.fromArray(FLOATS, ds, o + 6 * width), c2);
                c3 = q3.fma(FloatVector.fromArray(FLOATS, ds, o + 7 * width), c3);
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
