package dev.vecllama.activation;

/**
 * Chooses the clipping range of one linear layer's input for static int8 quantization, from the
 * values seen over a calibration text. It keeps a histogram of |x| (2048 bins from 0, doubling its
 * range when a larger value arrives, so one pass suffices) and offers the usual range methods:
 * the absolute maximum, a percentile, the threshold minimizing the expected squared error of int8
 * quantization (clipping error above it, rounding noise below), and TensorRT's entropy method (the
 * threshold whose 128-level quantized histogram is closest to the clipped one in KL-divergence).
 */
public final class Calibrator {
    public enum Method {
        ABSMAX("absmax"), P99_9("p99.9"), P99_99("p99.99"), MSE("mse"), ENTROPY("entropy");

        /** The name users type (--method) and the sidecar's keys carry. */
        public final String id;

        Method(String id) {
            this.id = id;
        }

        public static Method parse(String name) {
            for (Method m : values()) if (m.id.equalsIgnoreCase(name)) return m;
            throw new IllegalArgumentException("unknown calibration method '" + name + "' (choose from "
                    + String.join(", ", java.util.Arrays.stream(values()).map(m -> m.id).toList()) + ")");
        }
    }

    static final int BINS = 2048;
    /** Quantization levels on one side of zero for symmetric int8. */
    private static final int LEVELS = 127;
    /** The entropy method's target resolution, as in TensorRT. */
    private static final int ENTROPY_LEVELS = 128;

    private final long[] hist = new long[BINS];
    private float width;
    private float absmax;
    private long count;

    public void add(float[] x, int n) {
        float m = 0;
        for (int i = 0; i < n; i++) m = Math.max(m, Math.abs(x[i]));
        // An infinite value would make the range grow forever, a NaN would poison absmax.
        if (!Float.isFinite(m)) throw new IllegalArgumentException("activation value " + m + " seen while calibrating; the model overflows on this text");
        absmax = Math.max(absmax, m);
        if (width == 0 && m > 0) width = m / (BINS - 1);
        while (m >= width * BINS && m > 0) grow();
        for (int i = 0; i < n; i++) hist[width == 0 ? 0 : Math.min(BINS - 1, (int) (Math.abs(x[i]) / width))]++;
        count += n;
    }

    /** Halves the resolution: merges bins pairwise so the same array covers twice the range. */
    private void grow() {
        for (int i = 0; i < BINS / 2; i++) hist[i] = hist[2 * i] + hist[2 * i + 1];
        java.util.Arrays.fill(hist, BINS / 2, BINS, 0);
        width *= 2;
    }

    public long count() {
        return count;
    }

    /** The clipping threshold T (the int8 scale is T/127); 0 when nothing non-zero was seen. */
    public float threshold(Method m) {
        if (count == 0) throw new IllegalStateException("no calibration data");
        if (absmax == 0) return 0;
        float t = switch (m) {
            case ABSMAX -> absmax;
            case P99_9 -> percentile(0.999);
            case P99_99 -> percentile(0.9999);
            case MSE -> (bestMse() + 1) * width;
            case ENTROPY -> bestEntropy() * width;
        };
        return Math.min(t, absmax);
    }

    private float percentile(double p) {
        double target = p * count;
        long cum = 0;
        for (int i = 0; i < BINS; i++) {
            cum += hist[i];
            if (cum >= target) return (i + 1) * width;
        }
        return absmax;
    }

    /** The bin whose upper edge, as threshold, minimizes Σ count·error: (|x| − T)² above T, step²/12 below. */
    private int bestMse() {
        int best = BINS - 1;
        double bestErr = Double.MAX_VALUE;
        for (int t = 0; t < BINS; t++) {
            double c = (t + 1) * (double) width, noise = c / LEVELS * (c / LEVELS) / 12;
            double err = 0;
            for (int b = 0; b < BINS; b++) {
                double center = (b + 0.5) * width;
                err += hist[b] * (center > c ? (center - c) * (center - c) : noise);
            }
            if (err < bestErr) {
                bestErr = err;
                best = t;
            }
        }
        return best;
    }

    /** The number of bins to keep (the threshold is their upper edge) whose 128-level requantization loses the least information. */
    private int bestEntropy() {
        int best = BINS;
        double bestKl = Double.MAX_VALUE;
        double[] p = new double[BINS], q = new double[BINS];
        for (int i = ENTROPY_LEVELS; i <= BINS; i++) {
            long outliers = 0;
            for (int b = i; b < BINS; b++) outliers += hist[b];
            for (int b = 0; b < i; b++) p[b] = hist[b];
            p[i - 1] += outliers;
            // Merge the first i bins (outliers left out) into 128 groups, each group's total spread over its non-empty bins.
            java.util.Arrays.fill(q, 0, i, 0);
            for (int g = 0; g < ENTROPY_LEVELS; g++) {
                int from = g * i / ENTROPY_LEVELS, to = (g + 1) * i / ENTROPY_LEVELS;
                long sum = 0;
                int nonEmpty = 0;
                for (int b = from; b < to; b++) {
                    sum += hist[b];
                    if (p[b] != 0) nonEmpty++;
                }
                for (int b = from; b < to; b++) if (p[b] != 0) q[b] = (double) sum / nonEmpty;
            }
            double kl = klDivergence(p, q, i);
            if (kl < bestKl) {
                bestKl = kl;
                best = i;
            }
        }
        return best;
    }

    /** KL(p ‖ q) of the normalized first n entries; bins where q is empty but p is not count as very costly. */
    private static double klDivergence(double[] p, double[] q, int n) {
        double sp = 0, sq = 0;
        for (int b = 0; b < n; b++) {
            sp += p[b];
            sq += q[b];
        }
        double kl = 0;
        for (int b = 0; b < n; b++) {
            if (p[b] == 0) continue;
            double pb = p[b] / sp;
            kl += q[b] == 0 ? pb * 30 : pb * Math.log(pb / (q[b] / sq));
        }
        return kl;
    }
}
