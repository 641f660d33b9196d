package dev.vecllama.eval;

/**
 * Running mean of a per-position series with llama.cpp's standard error σ/√(n-1). For negative
 * log-likelihoods it also gives perplexity and its error, σ/√(n-1) scaled by the perplexity (the
 * first-order error of exp(mean)); KL-divergence uses it for its other series too.
 */
public final class NllStats {
    private double sum, sum2;
    private long count;

    public void add(double nll) {
        sum += nll;
        sum2 += nll * nll;
        count++;
    }

    public long count() {
        return count;
    }

    public double mean() {
        return sum / count;
    }

    public double ppl() {
        return Math.exp(mean());
    }

    /** Standard error of {@link #mean()} (0 with fewer than two samples). */
    public double meanStderr() {
        double m = mean();
        double var = sum2 / count - m * m;
        return var > 0 && count > 1 ? Math.sqrt(var / (count - 1)) : 0;
    }

    public double pplStderr() {
        return meanStderr() * ppl();
    }

    /** Accumulated Σx·y with another series of the same positions, for covariances. */
    static double covariance(NllStats a, NllStats b, double sumAB) {
        long n = a.count;
        if (n < 2) return 0;
        return (sumAB / n - a.mean() * b.mean()) / (n - 1);
    }
}
