package dev.vecllama.quant;

import java.lang.foreign.MemorySegment;

/**
 * A weight format's batch kernel: rows against whole groups of tokens held in {@link TokenLanes},
 * where lane t of every vector is token t. Each weight is unpacked to a float once per row and
 * broadcast against a group of tokens, so the unpacking, which is most of a quantized dot's work, is
 * shared by the group, and no horizontal sum is needed: lane t ends as token t's result.
 *
 * <p>The result is bit for bit what {@link WeightFormat#dot} gives each token: each lane performs the
 * same float operations in the same order. The integer sums of the int8 dot products are computed
 * with float FMAs instead, which is exact because every partial sum is an integer below 2^24; or,
 * where the weights are small integers (Q4_K's codes, the ternary codes), in 16-bit lanes that hold
 * two elements of a token ({@link TokenLanes#matmulPairs}), one multiply and one add per pair of
 * elements where an FMA takes one: 1B-shape prompt processing at one thread 1.4× (Q4_K_M) to 1.7×
 * (TQ2_0) faster.
 */
public interface LaneKernel {
    /**
     * {@code out[x.first() + k][r]} for every token k of {@code x} and rows {@code r0 ≤ r < r1} of the
     * row-major matrix at {@code w} (rows {@code rowBytes} apart, {@code cols} weights each).
     */
    void matmul(MemorySegment w, long rowBytes, int cols, TokenLanes x, float[][] out, int r0, int r1);

    /**
     * Tokens this kernel wants per tile (a multiple of {@link TokenLanes#WIDTH} and of 4): enough that
     * unpacking a row is shared by many, few enough that the tile's transposed activations stay in cache.
     */
    default int tokenTile() {
        return 64;
    }

    /**
     * Whether the kernel reads a Q8_K tile's 16-bit pairs ({@link TokenLanes#pairs}) rather than its
     * float values: a tile is filled with only the forms its region's kernels read.
     */
    default boolean readsPairs() {
        return false;
    }
}
