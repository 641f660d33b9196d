package dev.vecllama.eval;

import dev.vecllama.model.Model;
import java.io.PrintStream;

/** Perplexity of a model over a text, and its KL-divergence from a base model's stored predictions. */
public final class Perplexity {
    private Perplexity() {}

    /** Tokenizes the whole text once, as llama-perplexity does (BOS first when the model wants one). */
    public static ChunkPlan plan(Model m, String text, int nCtx, int maxChunks) {
        boolean bos = m.tokenizer.addBosByDefault() && m.tokenizer.bos() >= 0;
        int[] tokens = m.tokenizer.encode(text, bos, false);
        return ChunkPlan.of(tokens, nCtx, maxChunks, bos ? m.tokenizer.bos() : -1);
    }

    /**
     * Scores the plan; with {@code base} non-null also records every scored position's
     * log-probabilities into it. {@code progress} (may be null) gets a running estimate.
     */
    public static NllStats run(Model m, ChunkPlan plan, int batch, KldBaseFile.Writer base, PrintStream progress) {
        NllStats stats = new NllStats();
        ProgressBar bar = progress == null ? null : new ProgressBar(progress, plan.chunks());
        new ChunkEvaluator(m, plan.nCtx(), batch).run(plan, (chunk, pos, logits, target) -> {
            stats.add(LogSoftmax.nll(logits, target));
            if (base != null) base.add(logits, target);
        }, done -> {
            if (bar != null) bar.update(done, String.format("PPL %.4f", stats.ppl()));
        });
        return stats;
    }

    /** Evaluates the base file's own tokens and compares each scored position with its stored log-probabilities. */
    public static KlDivergence compare(Model m, KldBaseFile.Reader base, int batch, PrintStream progress) {
        if (base.vocab() != m.config.vocabSize()) {
            throw new IllegalArgumentException("the KL-divergence base has a vocabulary of " + base.vocab()
                    + " tokens, this model " + m.config.vocabSize() + ": they are not the same model family");
        }
        ChunkPlan plan = base.plan;
        KlDivergence kld = new KlDivergence(plan.scoredTotal());
        float[] baseLogProbs = new float[base.vocab()];
        ProgressBar bar = progress == null ? null : new ProgressBar(progress, plan.chunks());
        new ChunkEvaluator(m, plan.nCtx(), batch).run(plan,
                (chunk, pos, logits, target) -> {
                    base.logProbs(chunk, pos, baseLogProbs);
                    kld.add(logits, target, baseLogProbs, base.targetLogProb(chunk, pos));
                },
                done -> {
                    if (bar != null) bar.update(done, String.format("PPL %.4f KLD %.5f", kld.nll().ppl(), kld.meanKld()));
                });
        return kld;
    }
}
