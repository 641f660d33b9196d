package dev.vecllama.eval;

import dev.vecllama.model.Llama;
import dev.vecllama.model.Model;

/**
 * Runs a {@link ChunkPlan} through a model and hands the logits of every scored position to a
 * {@link Scorer}, batch by batch, so no chunk's logits are ever held in full.
 */
public final class ChunkEvaluator {

    /** Receives the logits at scored position {@code pos} of chunk {@code chunk} and the token they should predict. */
    @FunctionalInterface
    public interface Scorer {
        void score(int chunk, int pos, float[] logits, int target);
    }

    /** Called after each chunk, for progress reports. */
    @FunctionalInterface
    public interface ChunkDone {
        void done(int chunksDone);
    }

    private final Model model;
    private final Llama.State state;
    private final int batch;

    public ChunkEvaluator(Model model, int nCtx, int batch) {
        if (batch < 1) throw new IllegalArgumentException("-b/--batch-size must be at least 1, got " + batch);
        this.model = model;
        this.batch = Math.min(batch, nCtx);
        this.state = model.llama.newState(nCtx, this.batch, true);
    }

    /** Shows every linear layer's input to {@code o} during {@link #run} (calibration). */
    public void observe(Llama.InputObserver o) {
        state.observe(o);
    }

    public void run(ChunkPlan plan, Scorer scorer, ChunkDone progress) {
        int lastScored = plan.nCtx() - 2;
        for (int c = 0; c < plan.chunks(); c++) {
            int[] in = plan.input(c);
            for (int b0 = 0; b0 < plan.nCtx(); b0 += batch) {
                int n = Math.min(batch, plan.nCtx() - b0);
                // Positions continue from the previous batch; starting again at 0 empties the cache.
                model.llama.forward(state, in, b0, n, b0);
                for (int t = Math.max(0, plan.first() - b0); t < n && b0 + t <= lastScored; t++) {
                    int pos = b0 + t;
                    scorer.score(c, pos, state.logits[t], plan.target(c, pos));
                }
            }
            progress.done(c + 1);
        }
    }
}
