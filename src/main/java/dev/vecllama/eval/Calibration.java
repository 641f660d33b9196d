package dev.vecllama.eval;

import dev.vecllama.activation.Calibrator;
import dev.vecllama.model.LinearInputs;
import dev.vecllama.model.Model;
import java.io.PrintStream;

/**
 * Runs a model over a calibration text, chunk by chunk as perplexity does (each chunk from an
 * empty cache, BOS first), and feeds every linear layer's input at every position to that input's
 * {@link Calibrator}. Unlike perplexity, one chunk is enough and every position counts.
 */
public final class Calibration {
    private Calibration() {}

    /** Cuts the tokenized text into whole chunks of {@code nCtx}; {@code maxChunks} ≤ 0 means all. */
    public static ChunkPlan plan(Model m, String text, int nCtx, int maxChunks) {
        if (nCtx < 1) throw new IllegalArgumentException("-c/--ctx-size must be positive, got " + nCtx);
        if (nCtx > m.config.contextLength()) {
            throw new IllegalArgumentException("-c " + nCtx + " is larger than the model's context " + m.config.contextLength());
        }
        boolean bos = m.tokenizer.addBosByDefault() && m.tokenizer.bos() >= 0;
        int[] tokens = m.tokenizer.encode(text, bos, false);
        if (tokens.length < nCtx) {
            throw new IllegalArgumentException("the calibration text has " + tokens.length + " tokens, less than one chunk of -c " + nCtx);
        }
        int chunks = tokens.length / nCtx;
        if (maxChunks > 0) chunks = Math.min(chunks, maxChunks);
        return new ChunkPlan(tokens, nCtx, chunks, bos ? m.tokenizer.bos() : -1);
    }

    /** One calibrator per {@link LinearInputs} index, filled from every position of every chunk. */
    public static Calibrator[] run(Model m, ChunkPlan plan, int batch, PrintStream progress) {
        Calibrator[] calibrators = new Calibrator[LinearInputs.count(m.config.layers())];
        for (int i = 0; i < calibrators.length; i++) calibrators[i] = new Calibrator();
        ChunkEvaluator evaluator = new ChunkEvaluator(m, plan.nCtx(), batch);
        evaluator.observe((input, x, n) -> {
            for (int t = 0; t < n; t++) calibrators[input].add(x[t].f, x[t].n);
        });
        ProgressBar bar = progress == null ? null : new ProgressBar(progress, plan.chunks());
        evaluator.run(plan, (chunk, pos, logits, target) -> { }, done -> {
            if (bar != null) bar.update(done, "");
        });
        return calibrators;
    }
}
