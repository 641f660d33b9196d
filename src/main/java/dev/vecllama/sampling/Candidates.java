package dev.vecllama.sampling;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The tokens still in the running, best logit first; equal logits go to the lower id so that greedy
 * and top-k=1 agree. Every buffer is sized to the vocabulary once, so filtering allocates nothing.
 */
final class Candidates {
    private final long[] keys;
    private final int[] ids;
    private final float[] logits;
    private final double[] weights;
    private int size;

    Candidates(int vocabSize) {
        keys = new long[vocabSize];
        ids = new int[vocabSize];
        logits = new float[vocabSize];
        weights = new double[vocabSize];
    }

    int id(int rank) {
        return ids[rank];
    }

    /** Keeps the {@code k} best tokens of {@code all} (every token if k is 0), sorted. */
    void keepTop(float[] all, int k) {
        int n = all.length;
        size = k == 0 ? n : Math.min(k, n);
        if (size == n) {
            for (int i = 0; i < n; i++) keys[i] = key(all[i], i);
        } else {
            selectLargestKeys(all);
        }
        Arrays.sort(keys, 0, size);
        for (int r = 0; r < size; r++) {
            long key = keys[size - 1 - r];
            ids[r] = (int) (0xFFFF_FFFFL - (key & 0xFFFF_FFFFL));
            logits[r] = Float.intBitsToFloat(flip((int) (key >> 32)));
        }
    }

    /** Nucleus: the fewest best tokens whose probabilities (at temperature 1) add up to {@code p}. */
    void keepTopP(float p) {
        if (p >= 1) return;
        double total = fillWeights(1);
        double cumulative = 0;
        for (int r = 0; r < size; r++) {
            cumulative += weights[r];
            if (cumulative >= p * total) {
                size = r + 1;
                return;
            }
        }
    }

    /** Drops tokens less likely than {@code p} times the best one. */
    void keepMinP(float p) {
        if (p <= 0) return;
        float floor = logits[0] + (float) Math.log(p);
        int keep = 1;
        while (keep < size && logits[keep] >= floor) keep++;
        size = keep;
    }

    /** Draws one token from softmax(logit / temperature) over the survivors. */
    int draw(float temperature, SplittableRandom random) {
        double u = random.nextDouble() * fillWeights(temperature);
        for (int r = 0; r < size - 1; r++) {
            u -= weights[r];
            if (u < 0) return ids[r];
        }
        return ids[size - 1]; // also where rounding leaves a sliver of u
    }

    /** Unnormalized probabilities relative to the best token, which keeps exp() from overflowing. */
    private double fillWeights(float temperature) {
        double total = 0;
        for (int r = 0; r < size; r++) {
            weights[r] = Math.exp((logits[r] - logits[0]) / (double) temperature);
            total += weights[r];
        }
        return total;
    }

    /** A min-heap of the {@code size} largest keys so far: one pass, no sort of the whole vocabulary. */
    private void selectLargestKeys(float[] all) {
        for (int i = 0; i < size; i++) keys[i] = key(all[i], i);
        for (int i = size / 2 - 1; i >= 0; i--) siftDown(i);
        for (int i = size; i < all.length; i++) {
            long k = key(all[i], i);
            if (k > keys[0]) {
                keys[0] = k;
                siftDown(0);
            }
        }
    }

    private void siftDown(int i) {
        long k = keys[i];
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) break;
            if (child + 1 < size && keys[child + 1] < keys[child]) child++;
            if (keys[child] >= k) break;
            keys[i] = keys[child];
            i = child;
        }
        keys[i] = k;
    }

    /**
     * Orders (logit, id) pairs as one long: the logit's bits made sign-monotonic in the high half,
     * the id inverted in the low half so that a lower id ranks higher among equal logits.
     */
    private static long key(float logit, int id) {
        int bits = flip(Float.floatToIntBits(logit + 0.0f)); // + 0.0f turns -0.0 into 0.0: they are equal logits
        return ((long) bits << 32) | (0xFFFF_FFFFL - id);
    }

    /** Maps float bits to ints that compare like the floats (and back: it is its own inverse). */
    private static int flip(int bits) {
        return bits ^ ((bits >> 31) & 0x7FFF_FFFF);
    }
}
