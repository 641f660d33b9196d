package dev.vecllama.chat;

import dev.vecllama.model.Generator;
import dev.vecllama.model.Llama;
import dev.vecllama.sampling.Sampler;
import java.util.Arrays;
import java.util.function.IntPredicate;

/**
 * A KV cache and the tokens it holds. A new prompt that starts like those tokens (the same
 * conversation with a turn added, the same system prompt) evaluates only the part after the common
 * prefix; the rest of the cache is overwritten.
 */
public final class CachedSequence {
    private final Llama.State state;
    private int[] tokens = new int[0];

    public CachedSequence(Llama.State state) {
        this.state = state;
    }

    /** Positions in the cache. */
    public int capacity() {
        return state.cache.capacity;
    }

    /** Tokens the cache holds now. */
    public int size() {
        return tokens.length;
    }

    /**
     * Generates a continuation of {@code prompt} (see {@link Generator#generate(Generator.Evaluator,
     * Llama.State, int[], int, int, Sampler, IntPredicate, Generator.TokenSink)}), evaluating only what
     * the cache does not already hold.
     */
    public Generator.Stats generate(Generator.Evaluator evaluator, int[] prompt, int maxTokens, Sampler sampler,
                                    IntPredicate endOfGeneration, Generator.TokenSink sink) {
        // The last prompt token is evaluated even when cached: its logits give the first new token.
        int reuse = Math.max(0, Math.min(commonPrefix(prompt), prompt.length - 1));
        tokens = Arrays.copyOf(tokens, reuse); // what lies past the prefix is about to be overwritten
        Transcript transcript = new Transcript(prompt, sink);
        Generator.Stats st = Generator.generate(evaluator, state, prompt, reuse, maxTokens, sampler, endOfGeneration, transcript);
        tokens = Arrays.copyOf(transcript.tokens, st.cachedTokens());
        return st;
    }

    /** The prompt and the tokens generated after it, passed on to the caller's sink. */
    private static final class Transcript implements Generator.TokenSink {
        private final Generator.TokenSink next;
        int[] tokens;
        private int length;

        Transcript(int[] prompt, Generator.TokenSink next) {
            this.tokens = Arrays.copyOf(prompt, prompt.length + 64);
            this.length = prompt.length;
            this.next = next;
        }

        @Override
        public boolean accept(int token) {
            if (length == tokens.length) tokens = Arrays.copyOf(tokens, length * 2);
            tokens[length++] = token;
            return next.accept(token);
        }
    }

    private int commonPrefix(int[] prompt) {
        int n = Math.min(tokens.length, prompt.length);
        int i = 0;
        while (i < n && tokens[i] == prompt[i]) i++;
        return i;
    }
}
