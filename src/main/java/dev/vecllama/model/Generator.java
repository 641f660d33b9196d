package dev.vecllama.model;

import dev.vecllama.sampling.Sampler;
import java.util.function.IntPredicate;

/** Runs a prompt through the model and samples a continuation, handing each new token to a sink. */
public final class Generator {
    private Generator() {}

    /** Receives each generated token; returns false to stop. */
    @FunctionalInterface
    public interface TokenSink {
        boolean accept(int token);
    }

    /**
     * Runs tokens through the model into a state's cache, as {@link Llama#forward} does. The server
     * passes one that takes turns with other sequences, since they share the model's thread pool.
     */
    @FunctionalInterface
    public interface Evaluator {
        void forward(Llama.State state, int[] tokens, int off, int n, int pos0);
    }

    /**
     * {@code reusedTokens}: prompt tokens already in the cache, not evaluated again; {@code cachedTokens}:
     * how many positions of the cache hold the prompt and the continuation afterwards (the last sampled
     * token is not among them unless generation went on past it); {@code contextFull}: generation
     * stopped because no position was left; {@code endOfGeneration}: the model ended its answer.
     */
    public record Stats(int promptTokens, int reusedTokens, long promptNanos, int generatedTokens, long generateNanos,
                        int cachedTokens, boolean contextFull, boolean endOfGeneration) {
        public double promptTokensPerSecond() {
            return promptNanos == 0 ? 0 : (promptTokens - reusedTokens) * 1e9 / promptNanos;
        }

        public double generateTokensPerSecond() {
            return generateNanos == 0 ? 0 : generatedTokens * 1e9 / generateNanos;
        }
    }

    /**
     * Evaluates {@code prompt} from position 0 of {@code state}, then samples up to
     * {@code maxTokens} tokens (negative: until the context is full), stopping early at an
     * end-of-generation token (EOS, EOT...), which is not passed on.
     */
    public static Stats generate(Model model, Llama.State state, int[] prompt, int maxTokens, Sampler sampler, TokenSink sink) {
        return generate(model.llama::forward, state, prompt, 0, maxTokens, sampler, model.tokenizer::isEndOfGeneration, sink);
    }

    /**
     * Evaluates {@code prompt[reused..]} at positions {@code reused..} (the cache already holds
     * {@code prompt[0..reused)}), then samples up to {@code maxTokens} tokens (negative: until the context
     * is full), stopping at a token {@code endOfGeneration} accepts, which is not passed on.
     */
    public static Stats generate(Evaluator evaluator, Llama.State state, int[] prompt, int reused, int maxTokens,
                                 Sampler sampler, IntPredicate endOfGeneration, TokenSink sink) {
        int capacity = state.cache.capacity;
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt is empty");
        if (prompt.length >= capacity) {
            throw new IllegalArgumentException("the prompt is " + prompt.length + " tokens but the context holds "
                    + capacity + "; raise -c/--ctx-size or shorten the prompt");
        }
        if (reused < 0 || reused >= prompt.length) {
            throw new IllegalArgumentException("reused prefix " + reused + " must leave at least one of the "
                    + prompt.length + " prompt tokens to evaluate");
        }
        long t0 = System.nanoTime();
        evaluator.forward(state, prompt, reused, prompt.length - reused, reused);
        for (int token : prompt) sampler.accept(token);
        long t1 = System.nanoTime();
        int pos = prompt.length, generated = 0;
        int limit = maxTokens < 0 ? Integer.MAX_VALUE : maxTokens;
        boolean end = false;
        int[] next = new int[1];
        while (generated < limit) {
            int token = sampler.sample(state.logits[0]);
            if (endOfGeneration.test(token)) {
                end = true;
                break;
            }
            sampler.accept(token);
            generated++;
            if (!sink.accept(token) || generated == limit || pos == capacity) break;
            next[0] = token;
            evaluator.forward(state, next, 0, 1, pos++);
        }
        long t2 = System.nanoTime();
        return new Stats(prompt.length, reused, t1 - t0, generated, t2 - t1, pos, pos == capacity && !end, end);
    }
}
