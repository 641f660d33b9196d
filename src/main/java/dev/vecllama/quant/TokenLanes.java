package dev.vecllama.quant;

import static dev.vecllama.quant.VectorMath.FLOATS;

import dev.vecllama.activation.Activation;
import dev.vecllama.activation.ActivationKind;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * A tile of a batch's activations transposed for the {@link LaneKernel}s: the tokens come in groups
 * of {@link #WIDTH}, and within a group element i of token t sits at {@code i·WIDTH + t}, as a float:
 * the int8 value (exact in a float) for the Q8_0 and Q8_K forms, the rounded value for F16 and BF16.
 * Block scales and Q8_K's sums per 32 elements are laid out the same way. Q8_K activations are also
 * held as 16-bit pairs ({@link #pairs}) for the kernels whose products fit 16 bits. One per thread;
 * the arrays grow to the largest tile seen and are reused, together with the per-row scratch the
 * kernels unpack weights into.
 */
public final class TokenLanes {
    /** Tokens per group: the lane count of the kernels' float vectors. */
    public static final int WIDTH = VectorMath.FLOATS.length();
    /**
     * Rows per tile of {@link #matmulGroupPairs} and {@link #matmulUnpackedPairs}, whose kernels each
     * take a whole tile, and whose results {@link #storeHsum8Quads} and {@link #storeRows} store.
     */
    static final int TILE_ROWS = 4;

    /** Elements {@link #fill} transposes for all of a group's tokens at a time: 8 KiB of floats (4 of pairs) written per chunk. */
    private static final int FILL_CHUNK = 128;

    float[] values = new float[0];
    float[] scales = new float[0];
    float[] sums = new float[0];
    /**
     * Q8_K only: elements 2k and 2k + 1 of token t side by side, at {@code ((g·n/2 + k)·WIDTH + t)·2}
     * and + 1: one vector of {@link #PAIR_SHORTS} is a pair of elements for every token of a group, and
     * a row's pair of weights, broadcast as one int, multiplies both at once.
     */
    short[] pairs = new short[0];
    /** A tile's rows' integer weights as pairs in one int each (element 2k in the low half), for the pair kernels. */
    int[] rowPairs = new int[0];
    /** A tile's rows' weights unpacked to floats, and their per-block constants, for the kernel running. */
    float[] rows = new float[0];
    float[] rowConstants = new float[0];
    /** Per block, a kernel's products of row and token scales ({@link Q8_0}'s lane kernels). */
    private float[] blockScales = new float[0];
    /** A kernel's per-lane partial results, before its final sum: up to 16 accumulators for each of 4 rows and 2 groups. */
    final float[] partials = new float[128 * WIDTH];
    /** A group's results for the rows of a tile, on their way to {@code out}. */
    private final float[] results = new float[TILE_ROWS * WIDTH];
    private int first;
    int groups;

    /**
     * How many of a batch's first tokens {@link #fill} takes over its tiles (whole groups, of the
     * complete groups of 4; every tile a multiple of {@link #WIDTH}); the rest go to the row kernels.
     */
    public static int tokensTaken(int tokens) {
        return tokens - tokens % WIDTH;
    }

    /** The batch index of the first token held. */
    public int first() {
        return first;
    }

    /** Tokens held: whole groups. */
    public int tokens() {
        return groups * WIDTH;
    }

    /**
     * Takes the whole groups of tokens {@code first ≤ t < end} of {@code x}, all prepared in the same
     * kind, as far as they belong to the batch's complete groups of 4 ({@link Activation#quad}: a
     * kernel whose order depends on that, Q4_K's, then knows which one to follow); returns how many
     * it took (none for F32, which has no lane kernel). A Q8_K tile gets its float values only if
     * {@code floats} and its 16-bit pairs only if {@code withPairs} ({@link LaneKernel#readsPairs}):
     * each is a strided store per element and token, and most of a Q4_K_M model's regions read only
     * one (tiny Q4_K_M, JFR: the transposition was 8 % of a prompt with both).
     */
    public int fill(Activation[] x, int first, int end, boolean floats, boolean withPairs) {
        ActivationKind kind = x[first].kind();
        this.first = first;
        int quads = first;
        while (quads < end && x[quads].quad()) quads++;
        groups = kind == ActivationKind.F32 ? 0 : (quads - first) / WIDTH;
        if (groups == 0) return 0;
        int n = x[first].n;
        boolean int8 = kind == ActivationKind.Q8_0 || kind == ActivationKind.Q8_K, q8k = kind == ActivationKind.Q8_K;
        boolean withFloats = floats || !q8k;
        withPairs &= q8k;
        int blocks = n / kind.blockSize, subs = n / 32;
        if (withFloats) values = grown(values, groups * n * WIDTH);
        if (int8) scales = grown(scales, groups * blocks * WIDTH);
        if (q8k) sums = grown(sums, groups * subs * WIDTH);
        if (withPairs && pairs.length < groups * n * WIDTH) pairs = new short[groups * n * WIDTH];
        for (int g = 0; g < groups; g++) {
            for (int t = 0; t < WIDTH; t++) {
                Activation a = x[first + g * WIDTH + t];
                if (int8) {
                    int s = g * blocks * WIDTH + t;
                    for (int b = 0; b < blocks; b++) scales[s + b * WIDTH] = a.scale[b];
                }
                if (q8k) {
                    int u = g * subs * WIDTH + t;
                    for (int j = 0; j < subs; j++) sums[u + j * WIDTH] = a.sums32[j];
                }
            }
            // The elements a chunk at a time, all the group's tokens in turn: the lines a chunk writes
            // stay in L1 until its last token. Token by token over whole rows, every store missed it.
            for (int i0 = 0; i0 < n; i0 += FILL_CHUNK) {
                int i1 = Math.min(n, i0 + FILL_CHUNK);
                for (int t = 0; t < WIDTH; t++) {
                    Activation a = x[first + g * WIDTH + t];
                    int v = g * n * WIDTH + t;
                    if (int8 && withFloats) {
                        for (int i = i0; i < i1; i++) values[v + i * WIDTH] = a.q[i];
                    } else if (withFloats) {
                        for (int i = i0; i < i1; i++) values[v + i * WIDTH] = a.rounded[i];
                    }
                    if (withPairs) {
                        int p = g * n * WIDTH + 2 * t;
                        for (int k = i0 / 2; k < i1 / 2; k++) {
                            pairs[p + 2 * k * WIDTH] = a.q[2 * k];
                            pairs[p + 2 * k * WIDTH + 1] = a.q[2 * k + 1];
                        }
                    }
                }
            }
        }
        return tokens();
    }

    /** {@link #blockScales}, at least {@code size} long. */
    float[] blockScales(int size) {
        return blockScales = grown(blockScales, size);
    }

    /** Unpacks one row's weights to floats at {@code wf[o ..]} and its per-block constants at {@code c[oc ..]}. */
    interface RowUnpacker {
        void unpack(MemorySegment w, long off, int blocks, float[] wf, int o, float[] c, int oc);
    }

    /**
     * Unpacks one row's weights straight to 16-bit pairs at {@code pairs[o ..]} (element 2k in the low
     * half of int k, 2k + 1 in the high half, as {@link #matmulPairs} narrows them), its per-block
     * constants at {@code c[oc ..]}.
     */
    interface PairUnpacker {
        void unpack(MemorySegment w, long off, int blocks, int[] pairs, int o, float[] c, int oc);
    }

    /**
     * Runs group g's tokens against the rows r .. last of the frame's tile (at most its height; row
     * r + i unpacked at {@code rows[i·cols ..]}) into {@code out}; as the pair kernel of
     * {@link #matmulGroupPairs}, group g + 1's too. A two-row kernel's rows are r and last.
     */
    interface GroupKernel {
        void run(TokenLanes x, int g, int cols, float[][] out, int r, int last);
    }

    /**
     * The frame every lane kernel shares: rows {@link #TILE_ROWS} at a time (each token vector loaded
     * then serves them all; the rows past r1 in the last tile repeat its last row), each tile of rows
     * unpacked once for all groups; groups two at a time by {@code pairs} (each weight broadcast then
     * serves both), a lone group at an odd end by {@code kernel}.
     */
    void matmulGroupPairs(MemorySegment w, long rowBytes, int cols, int blocks, int constantsPerBlock, float[][] out, int r0, int r1,
                          RowUnpacker unpacker, GroupKernel pairs, GroupKernel kernel) {
        rows(w, rowBytes, cols, blocks, constantsPerBlock, out, r0, r1, TILE_ROWS, unpacker, null, pairs, kernel, false);
    }

    /**
     * The same frame, two rows and one group at a time, for the pair kernels: each row is unpacked to
     * integer-valued floats as for the float kernels, then narrowed into {@link #rowPairs} (row r + i at {@code i·cols / 2}).
     */
    void matmulPairs(MemorySegment w, long rowBytes, int cols, int blocks, int constantsPerBlock, float[][] out, int r0, int r1,
                     RowUnpacker unpacker, GroupKernel kernel) {
        rows(w, rowBytes, cols, blocks, constantsPerBlock, out, r0, r1, 2, unpacker, null, null, kernel, true);
    }

    /** {@link #matmulPairs}, {@link #TILE_ROWS} rows a tile, for a format that unpacks its rows to pairs itself, without the floats in between. */
    void matmulUnpackedPairs(MemorySegment w, long rowBytes, int cols, int blocks, int constantsPerBlock, float[][] out, int r0, int r1,
                             PairUnpacker unpacker, GroupKernel kernel) {
        rows(w, rowBytes, cols, blocks, constantsPerBlock, out, r0, r1, TILE_ROWS, null, unpacker, null, kernel, true);
    }

    /** Rows unpacked by {@code floats} (then narrowed to pairs if {@code narrow}) or, if that is null, by {@code direct}. */
    private void rows(MemorySegment w, long rowBytes, int cols, int blocks, int constantsPerBlock, float[][] out, int r0, int r1,
                      int height, RowUnpacker floats, PairUnpacker direct, GroupKernel pairs, GroupKernel kernel, boolean narrow) {
        rowConstants = grown(rowConstants, height * blocks * constantsPerBlock);
        if (narrow && rowPairs.length < height * cols / 2) rowPairs = new int[height * cols / 2];
        if (floats != null) rows = grown(rows, height * cols);
        for (int r = r0; r < r1; r += height) {
            int last = Math.min(r + height - 1, r1 - 1);
            for (int i = 0; i < height; i++) {
                long row = Math.min(r + i, last) * rowBytes;
                if (floats != null) floats.unpack(w, row, blocks, rows, i * cols, rowConstants, i * blocks * constantsPerBlock);
                else direct.unpack(w, row, blocks, rowPairs, i * cols / 2, rowConstants, i * blocks * constantsPerBlock);
            }
            if (narrow && floats != null) narrow(height * cols);
            int g = 0;
            if (pairs != null) for (; g + 1 < groups; g += 2) pairs.run(this, g, cols, out, r, last);
            for (; g < groups; g++) kernel.run(this, g, cols, out, r, last);
        }
    }

    /** Pair vectors' shorts: two elements of each of a group's tokens. */
    static final VectorSpecies<Short> PAIR_SHORTS = VectorMath.SHORTS;
    /** As many shorts as a float vector has lanes: its weights narrowed, read back as half as many ints of pairs. */
    private static final VectorSpecies<Short> NARROWED = VectorSpecies.of(short.class, VectorShape.forBitSize(VectorMath.BITS / 2));

    /** The first {@code count} (integer-valued) floats of {@link #rows} as 16-bit pairs into {@link #rowPairs}. */
    private void narrow(int count) {
        for (int i = 0; i < count; i += FLOATS.length()) {
            ((ShortVector) FloatVector.fromArray(FLOATS, rows, i).convertShape(VectorOperators.F2S, NARROWED, 0)).reinterpretAsInts().intoArray(rowPairs, i / 2);
        }
    }

    /**
     * For the kernels that keep 8 accumulators per row (llama.cpp's 8 float lanes, lane l of row h at
     * {@code partials[(8h + l)·WIDTH ..]}): folds them in {@link VectorMath#hsum8}'s order and stores
     * group g's results for rows r and r2.
     *
     * <p>The folds run 16 tokens to a vector, then each token's row takes its results: folded and
     * stored one token and row at a time, this was 11-13% of a tiny Q8_0 model's prompt (JFR), and
     * is 4-5% so (pp256 @1, alternated runs, medians 4840 -> 5170 tok/s). C2 compiles these helpers
     * on their own; PrintCompilation shows them at its tier within the warm-up.
     */
    void storeHsum8(float[][] out, int g, int r, int r2) {
        hsum8(partials, 0).intoArray(results, 0);
        hsum8(partials, 8 * WIDTH).intoArray(results, WIDTH);
        int first = this.first + g * WIDTH;
        for (int t = 0; t < WIDTH; t++) {
            float[] o = out[first + t];
            o[r] = results[t];
            o[r2] = results[WIDTH + t];
        }
    }

    /**
     * {@link #storeHsum8} for the 4-row kernels: accumulator l of row r + i (at most {@code last})
     * against group g at {@code partials[(8i + l)·WIDTH ..]}, against g2 at {@code partials[(32 + 8i + l)·WIDTH ..]}.
     */
    void storeHsum8Quads(float[][] out, int g, int g2, int r, int last) {
        for (int h = 0; h < 2; h++) {
            for (int i = 0; i < TILE_ROWS; i++) hsum8(partials, (32 * h + 8 * i) * WIDTH).intoArray(results, i * WIDTH);
            storeRows(out, h == 0 ? g : g2, results, r, Math.min(r + 1, last), Math.min(r + 2, last), Math.min(r + 3, last));
        }
    }

    /** Per token lane, {@link VectorMath#hsum8} of the 8 accumulators at {@code p[b + l·WIDTH ..]}. */
    private static FloatVector hsum8(float[] p, int b) {
        FloatVector b0 = FloatVector.fromArray(FLOATS, p, b).add(FloatVector.fromArray(FLOATS, p, b + 4 * WIDTH));
        FloatVector b1 = FloatVector.fromArray(FLOATS, p, b + WIDTH).add(FloatVector.fromArray(FLOATS, p, b + 5 * WIDTH));
        FloatVector b2 = FloatVector.fromArray(FLOATS, p, b + 2 * WIDTH).add(FloatVector.fromArray(FLOATS, p, b + 6 * WIDTH));
        FloatVector b3 = FloatVector.fromArray(FLOATS, p, b + 3 * WIDTH).add(FloatVector.fromArray(FLOATS, p, b + 7 * WIDTH));
        return b0.add(b2).add(b1.add(b3));
    }

    /**
     * For the kernels that leave one result per token and row: stores {@code partials[i·WIDTH ..]} as
     * row r + i's (at most {@code last}), for each row i of a tile.
     */
    void storeRows(float[][] out, int g, int r, int last) {
        storeRows(out, g, partials, r, Math.min(r + 1, last), Math.min(r + 2, last), Math.min(r + 3, last));
    }

    /**
     * Group g's results {@code v[i·WIDTH + t]} into rows r0 .. r3 of its tokens' outputs, a token at a
     * time: each token's row is fetched and checked once for its 4 stores (row by row, the stores and
     * their fetches were 7% of a tiny model's prompt, JFR). A row repeated stores its value again.
     */
    private void storeRows(float[][] out, int g, float[] v, int r0, int r1, int r2, int r3) {
        int first = this.first + g * WIDTH;
        for (int t = 0; t < WIDTH; t++) {
            float[] o = out[first + t];
            o[r0] = v[t];
            o[r1] = v[WIDTH + t];
            o[r2] = v[2 * WIDTH + t];
            o[r3] = v[3 * WIDTH + t];
        }
    }

    private static float[] grown(float[] a, int size) {
        return a.length >= size ? a : new float[size];
    }
}
