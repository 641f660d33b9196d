package dev.vecllama.eval;

/**
 * Log-probabilities from logits the way llama-perplexity computes them: the maximum is subtracted,
 * single-precision exponentials are summed in double precision.
 */
public final class LogSoftmax {
    private LogSoftmax() {}

    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /** log Σ exp(logits[i] - max): add {@code max} to get the log-partition function. */
    public static double logSumExpShifted(float[] logits, float max) {
        double sum = 0;
        for (float l : logits) sum += (float) Math.exp(l - max);
        return Math.log(sum);
    }

    /** The negative log-likelihood of {@code target}. */
    public static double nll(float[] logits, int target) {
        float max = logits[argmax(logits)];
        return max + logSumExpShifted(logits, max) - logits[target];
    }
}
