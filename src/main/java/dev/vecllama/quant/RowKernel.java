package dev.vecllama.quant;

import dev.vecllama.activation.Activation;
import java.lang.foreign.MemorySegment;

/**
 * A format whose kernel takes a range of rows in one call: {@link #dot} and {@link #matvec} are that
 * kernel on one row or on many. On a 256-wide row (every matrix of a small model, and its output
 * projection of 32000 rows) a call per row and its set-up cost a fifth of the row or more.
 */
interface RowKernel extends WeightFormat {
    /**
     * {@code out[r]} = row r · a for r0 ≤ r < r1, row r of {@code n} weights at {@code offset + r·rowBytes},
     * each the float {@link #dot} of that row gives.
     */
    void dotRows(MemorySegment w, long offset, long rowBytes, Activation a, int n, float[] out, int r0, int r1);

    /**
     * The kernels that decode from memory faster than one stream allows (F16, BF16, Q8_0, Q4_0) take
     * their rows two at a time, row r with row r + {@code pairDistance}: two independent accumulator
     * chains, each activation load shared, and two sequential streams through memory. On this kind of
     * machine (Zen 4 under KVM) one core streams two far-apart sequential runs at 31–34 GB/s, one run
     * at 27–29 GB/s, but rows r and r + 1 read side by side at 9–11 GB/s: the prefetcher of each
     * stream then runs into the rows the other has read. The K-quant and ternary kernels, bound by
     * their operations, ran slower paired and take one row at a time.
     */
    static int pairDistance(int r0, int r1) {
        return (r1 - r0 + 1) / 2;
    }

    /** Row r's partner, r + d; the last row of an odd range is its own partner (computed twice). */
    static int partner(int r, int d, int r1) {
        return r + d < r1 ? r + d : r;
    }

    @Override
    default float dot(MemorySegment w, long offset, Activation a, int n) {
        float[] out = new float[1];
        dotRows(w, offset, 0, a, n, out, 0, 1);
        return out[0];
    }

    @Override
    default void matvec(MemorySegment w, long rowBytes, int cols, Activation a, float[] out, int r0, int r1) {
        dotRows(w, 0, rowBytes, a, cols, out, r0, r1);
    }
}
