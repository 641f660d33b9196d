package dev.vecllama.model;

import dev.vecllama.sampling.Sampler;

/** Runs a prompt through the model and samples a continuation, handing each new token to a sink. */
public final class Generator {
    private Generator() {}

    /** Receives each generated token; returns false to stop. */
    @FunctionalInterface
    public interface TokenSink {
        boolean accept(int token);
    }

    /** {@code contextFull}: generation stopped because no position was left. */
    public record Stats(int promptTokens, long promptNanos, int generatedTokens, long generateNanos, boolean contextFull) {
        public double promptTokensPerSecond() {
            return promptNanos == 0 ? 0 : promptTokens * 1e9 / promptNanos;
        }

        public double generateTokensPerSecond() {
            return generateNanos == 0 ? 0 : generatedTokens * 1e9 / generateNanos;
        }
    }

    /**
     * Evaluates {@code prompt} from position 0 of {@code state}, then samples up to
     * {@code maxTokens} tokens (negative: until the context is full), stopping early at an
     * end-of-generation token, which is not passed on.
     */
    public static Stats generate(Model model, Llama.State state, int[] prompt, int maxTokens, Sampler sampler, TokenSink sink) {
        int capacity = state.cache.capacity;
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt is empty");
        if (prompt.length >= capacity) {
            throw new IllegalArgumentException("the prompt is " + prompt.length + " tokens but the context holds "
                    + capacity + "; raise -c/--ctx-size or shorten the prompt");
        }
        long t0 = System.nanoTime();
        model.llama.forward(state, prompt, 0, prompt.length, 0);
        for (int token : prompt) sampler.accept(token);
        long t1 = System.nanoTime();
        int pos = prompt.length, generated = 0;
        int limit = maxTokens < 0 ? Integer.MAX_VALUE : maxTokens;
        int[] next = new int[1];
        while (generated < limit) {
            int token = sampler.sample(state.logits[0]);
            if (token == model.tokenizer.eos()) break;
            sampler.accept(token);
            generated++;
            if (!sink.accept(token) || generated == limit || pos == capacity) break;
            next[0] = token;
            model.llama.forward(state, next, 0, 1, pos++);
        }
        long t2 = System.nanoTime();
        return new Stats(prompt.length, t1 - t0, generated, t2 - t1, pos == capacity);
    }
}
