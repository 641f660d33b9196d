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
                (t, g, n, o, r, r2) -> dotLanePairs(t, g, n, o, r, r2, IN_ORDER), (t, g, n, o, r, r2) -> dotLanes(t, g, n, o, r, r2, IN_ORDER));
    }

    /** A row's weights as floats into {@code wf[o ..]}, its block scales into {@code d[od ..]}. */
    private static void unpackRow(MemorySegment w, long off, int blocks, float[] wf, int o, float[] d, int od) {
        for (int b = 0; b < blocks; b++) {
            long p = off + (long) b * BLOCK_BYTES;
            d[od + b] = Half.f16Head(w, p);
            for (int c = 0; c < BLOCK; c += B8.length()) {
                ByteVector q = ByteVector.fromMemorySegment(B8, w, p + QS + c, ByteOrder.LITTLE_ENDIAN);
                ((FloatVector) q.convertShape(VectorOperators.B2F, F8, 0)).intoArray(wf, o + b * BLOCK + c);
            }
        }
    }

    /** Accumulator l of a block takes its elements 4l .. 4l + 3. */
    private static final int[] IN_ORDER = java.util.stream.IntStream.range(0, BLOCK).toArray();

    /**
     * Group g's tokens against the two unpacked rows, for the formats with blocks of 32 and 8
     * accumulators per row, each taking 4 elements of every block: accumulator l the elements
     * {@code order[4l .. 4l + 3]}.
     */
    static void dotLanes(TokenLanes x, int g, int n, float[][] out, int r, int r2, int[] order) {
        int blocks = n / BLOCK, width = TokenLanes.WIDTH;
        float[] wf = x.rows, d = x.rowConstants, at = x.values;
        int v = g * n * width, s = g * blocks * width;
        for (int l = 0; l < 8; l++) {
            FloatVector acc = FloatVector.zero(FLOATS), acc2 = acc;
            int e0 = order[4 * l], e1 = order[4 * l + 1], e2 = order[4 * l + 2], e3 = order[4 * l + 3];
            for (int b = 0; b < blocks; b++) {
                int k = b * BLOCK;
                FloatVector x0 = FloatVector.fromArray(FLOATS, at, v + (k + e0) * width), x1 = FloatVector.fromArray(FLOATS, at, v + (k + e1) * width);
                FloatVector x2 = FloatVector.fromArray(FLOATS, at, v + (k + e2) * width), x3 = FloatVector.fromArray(FLOATS, at, v + (k + e3) * width);
                FloatVector p = x0.mul(FloatVector.broadcast(FLOATS, wf[k + e0])), q = x0.mul(FloatVector.broadcast(FLOATS, wf[n + k + e0]));
                p = x1.fma(FloatVector.broadcast(FLOATS, wf[k + e1]), p);
                q = x1.fma(FloatVector.broadcast(FLOATS, wf[n + k + e1]), q);
                p = x2.fma(FloatVector.broadcast(FLOATS, wf[k + e2]), p);
                q = x2.fma(FloatVector.broadcast(FLOATS, wf[n + k + e2]), q);
                p = x3.fma(FloatVector.broadcast(FLOATS, wf[k + e3]), p);
                q = x3.fma(FloatVector.broadcast(FLOATS, wf[n + k + e3]), q);
                FloatVector da = FloatVector.fromArray(FLOATS, x.scales, s + b * width);
                acc = p.fma(FloatVector.broadcast(FLOATS, d[b]).mul(da), acc);
                acc2 = q.fma(FloatVector.broadcast(FLOATS, d[blocks + b]).mul(da), acc2);
            }
            acc.intoArray(x.partials, l * width);
            acc2.intoArray(x.partials, (8 + l) * width);
        }
        x.storeHsum8(out, g, r, r2);
    }

    /**
     * {@link #dotLanes} for groups g and g + 1 at once, each weight broadcast serving both groups'
     * token vectors. The one-group loop waits on its broadcast loads, 8 a step beside 12 float
     * operations (hoisted out of the loop, a timing probe ran 66 GFLOP/s instead of 51); here there are
     * 8 beside 24. JMH, 2048×5632, 128 tokens, one thread, three forks each, alternated: 50–56 →
     * 57–75 GFLOP/s. The four elements of a step are written out: as a loop over them, reading their
     * offsets from {@code order} inside it, the kernel ran 42–55.
     */
    static void dotLanePairs(TokenLanes x, int g, int n, float[][] out, int r, int r2, int[] order) {
        int blocks = n / BLOCK, width = TokenLanes.WIDTH;
        float[] wf = x.rows, d = x.rowConstants, at = x.values;
        int v = g * n * width, s = g * blocks * width, v2 = v + n * width, s2 = s + blocks * width;
        for (int l = 0; l < 8; l++) {
            // acc, acc2: rows r and r2 against group g; acc3, acc4: against group g + 1.
            FloatVector acc = FloatVector.zero(FLOATS), acc2 = acc, acc3 = acc, acc4 = acc;
            int e0 = order[4 * l], e1 = order[4 * l + 1], e2 = order[4 * l + 2], e3 = order[4 * l + 3];
            for (int b = 0; b < blocks; b++) {
                int k = b * BLOCK;
                FloatVector w0 = FloatVector.broadcast(FLOATS, wf[k + e0]), u0 = FloatVector.broadcast(FLOATS, wf[n + k + e0]);
                FloatVector x0 = FloatVector.fromArray(FLOATS, at, v + (k + e0) * width), y0 = FloatVector.fromArray(FLOATS, at, v2 + (k + e0) * width);
                FloatVector p = x0.mul(w0), q = x0.mul(u0), p2 = y0.mul(w0), q2 = y0.mul(u0);
                FloatVector w1 = FloatVector.broadcast(FLOATS, wf[k + e1]), u1 = FloatVector.broadcast(FLOATS, wf[n + k + e1]);
                FloatVector x1 = FloatVector.fromArray(FLOATS, at, v + (k + e1) * width), y1 = FloatVector.fromArray(FLOATS, at, v2 + (k + e1) * width);
                p = x1.fma(w1, p);
                q = x1.fma(u1, q);
                p2 = y1.fma(w1, p2);
                q2 = y1.fma(u1, q2);
                FloatVector w2 = FloatVector.broadcast(FLOATS, wf[k + e2]), u2 = FloatVector.broadcast(FLOATS, wf[n + k + e2]);
                FloatVector x2 = FloatVector.fromArray(FLOATS, at, v + (k + e2) * width), y2 = FloatVector.fromArray(FLOATS, at, v2 + (k + e2) * width);
                p = x2.fma(w2, p);
                q = x2.fma(u2, q);
                p2 = y2.fma(w2, p2);
                q2 = y2.fma(u2, q2);
                FloatVector w3 = FloatVector.broadcast(FLOATS, wf[k + e3]), u3 = FloatVector.broadcast(FLOATS, wf[n + k + e3]);
                FloatVector x3 = FloatVector.fromArray(FLOATS, at, v + (k + e3) * width), y3 = FloatVector.fromArray(FLOATS, at, v2 + (k + e3) * width);
                p = x3.fma(w3, p);
                q = x3.fma(u3, q);
                p2 = y3.fma(w3, p2);
                q2 = y3.fma(u3, q2);
                FloatVector da = FloatVector.fromArray(FLOATS, x.scales, s + b * width), db = FloatVector.fromArray(FLOATS, x.scales, s2 + b * width);
                FloatVector dw = FloatVector.broadcast(FLOATS, d[b]), dw2 = FloatVector.broadcast(FLOATS, d[blocks + b]);
                acc = p.fma(dw.mul(da), acc);
                acc2 = q.fma(dw2.mul(da), acc2);
                acc3 = p2.fma(dw.mul(db), acc3);
                acc4 = q2.fma(dw2.mul(db), acc4);
            }
            acc.intoArray(x.partials, l * width);
            acc2.intoArray(x.partials, (8 + l) * width);
            acc3.intoArray(x.partials, (16 + l) * width);
            acc4.intoArray(x.partials, (24 + l) * width);
        }
        x.storeHsum8(out, g, r, r2, 0);
        x.storeHsum8(out, g + 1, r, r2, 16 * width);
    }
}
