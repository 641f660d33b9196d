package dev.vecllama.eval;

import java.io.PrintStream;
import java.util.Arrays;

/**
 * Compares a model's predictions with a base model's stored log-probabilities position by position,
 * accumulating what llama.cpp's {@code --kl-divergence} reports: KL(base ‖ model), whether the two
 * agree on the most likely token, the change in the probability of the actual next token (Δp), and
 * both perplexities with the uncertainty of their ratio and difference.
 */
public final class KlDivergence {
    private final NllStats nll = new NllStats();
    private final NllStats nllBase = new NllStats();
    private double sumNllNllBase;
    private final NllStats kld = new NllStats();
    private final NllStats pDiff = new NllStats();
    private final NllStats pDiffSquared = new NllStats();
    private long sameTop;
    private final float[] kldValues;
    private final float[] pDiffValues;

    public KlDivergence(long positions) {
        kldValues = new float[Math.toIntExact(positions)];
        pDiffValues = new float[kldValues.length];
    }

    /**
     * Scores one position: {@code baseLogProbs} are the base model's log-probabilities there and
     * {@code baseTargetLogProb} its exact log-probability of {@code target}.
     */
    public void add(float[] logits, int target, float[] baseLogProbs, float baseTargetLogProb) {
        int top = LogSoftmax.argmax(logits);
        float max = logits[top];
        float logZ = max + (float) LogSoftmax.logSumExpShifted(logits, max);
        float nllQ = logZ - logits[target];
        float nllB = -baseTargetLogProb;
        nll.add(nllQ);
        nllBase.add(nllB);
        sumNllNllBase += (double) nllQ * nllB;

        double sum = 0;
        int topBase = 0;
        for (int i = 0; i < baseLogProbs.length; i++) {
            float lp = baseLogProbs[i];
            if (lp > baseLogProbs[topBase]) topBase = i;
            // The floor of the stored range stands for "negligible": llama.cpp skips it the same way.
            if (lp > -KldBaseFile.RANGE) sum += (float) Math.exp(lp) * (lp - logits[i] + logZ);
        }
        if (top == topBase) sameTop++;
        int k = (int) kld.count();
        kld.add(sum);
        kldValues[k] = (float) sum;
        float dp = (float) Math.exp(-nllQ) - (float) Math.exp(-nllB);
        pDiff.add(dp);
        pDiffSquared.add((double) dp * dp);
        pDiffValues[k] = dp;
    }

    public long count() {
        return kld.count();
    }

    public NllStats nll() {
        return nll;
    }

    public double meanKld() {
        return kld.mean();
    }

    public double sameTopFraction() {
        return (double) sameTop / count();
    }

    /** Linear interpolation between order statistics, as llama.cpp's percentile. */
    static double percentile(float[] sorted, double fraction) {
        if (fraction <= 0) return sorted[0];
        if (fraction >= 1) return sorted[sorted.length - 1];
        double p = fraction * (sorted.length - 1);
        int ip = (int) p;
        p -= ip;
        return (1 - p) * sorted[ip] + p * sorted[Math.min(ip + 1, sorted.length - 1)];
    }

    public void report(PrintStream out) {
        int n = (int) count();
        float[] k = Arrays.copyOf(kldValues, n);
        float[] dp = Arrays.copyOf(pDiffValues, n);
        Arrays.sort(k);
        Arrays.sort(dp);
        double cov = NllStats.covariance(nll, nllBase, sumNllNllBase);
        double sq = nll.meanStderr(), sb = nllBase.meanStderr();
        double lnRatio = nll.mean() - nllBase.mean();
        double lnRatioErr = Math.sqrt(Math.max(0, sq * sq + sb * sb - 2 * cov));
        double pplDiffErr = Math.sqrt(Math.max(0, Math.pow(nll.pplStderr(), 2) + Math.pow(nllBase.pplStderr(), 2)
                - 2 * nll.ppl() * nllBase.ppl() * cov));

        out.printf("positions        : %d%n", n);
        out.printf("PPL(Q)           : %.4f ± %.5f%n", nll.ppl(), nll.pplStderr());
        out.printf("PPL(base)        : %.4f ± %.5f%n", nllBase.ppl(), nllBase.pplStderr());
        out.printf("Δ-PPL            : %.4f ± %.5f   (PPL(Q)/PPL(base) = %.6f, ln ratio %.6f ± %.6f)%n",
                nll.ppl() - nllBase.ppl(), pplDiffErr, Math.exp(lnRatio), lnRatio, lnRatioErr);
        out.printf("Mean KLD         : %.6f ± %.6f%n", kld.mean(), kld.meanStderr());
        out.printf("Maximum KLD      : %.6f%n", k[n - 1]);
        for (double f : new double[] {0.999, 0.99, 0.95, 0.90, 0.5, 0.10, 0.05, 0.01, 0.001}) {
            out.printf("%-17s: %.6f%n", (f == 0.5 ? "Median" : String.format("%.1f%%", 100 * f)) + " KLD", percentile(k, f));
        }
        out.printf("Minimum KLD      : %.6f%n", k[0]);
        out.printf("Mean Δp          : %.3f ± %.3f %%%n", 100 * pDiff.mean(), 100 * pDiff.meanStderr());
        out.printf("Median Δp        : %.3f %%%n", 100 * percentile(dp, 0.5));
        double rms = Math.sqrt(pDiffSquared.mean());
        out.printf("RMS Δp           : %.3f ± %.3f %%%n", 100 * rms, 100 * 0.5 / rms * pDiffSquared.meanStderr());
        double p = sameTopFraction();
        out.printf("Same top token   : %.3f ± %.3f %%%n", 100 * p, 100 * Math.sqrt(p * (1 - p) / (n - 1)));
    }
}
