package dev.vecllama.server;

import dev.vecllama.model.Generator;
import dev.vecllama.model.Llama;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Lets the slots share one model, whose thread pool runs one forward pass at a time: each batch of
 * tokens takes the model in turn (a fair lock), so slots that are generating alternate token by token
 * and a long prompt does not hold the others up for more than one batch.
 */
final class TakingTurns implements Generator.Evaluator {
    private final Llama llama;
    private final ReentrantLock lock = new ReentrantLock(true);

    TakingTurns(Llama llama) {
        this.llama = llama;
    }

    @Override
    public void forward(Llama.State state, int[] tokens, int off, int n, int pos0) {
        for (int done = 0; done < n; done += state.maxBatch) {
            int batch = Math.min(state.maxBatch, n - done);
            lock.lock();
            try {
                llama.forward(state, tokens, off + done, batch, pos0 + done);
            } finally {
                lock.unlock();
            }
        }
    }
}
