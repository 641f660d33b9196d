package dev.vecllama.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vecllama.kernel.KernelWarmup;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A prompt run as batches gives exactly the logits of running it one token at a time, with the
 * kernels warm, so that the batch goes through the lane kernels (16 tokens or more) and the single
 * tokens through the vector dots.
 */
class BatchPrefillTest {

    @ParameterizedTest
    @ValueSource(strings = {"vl-tiny-f-Q8_0", "vl-tiny-f-F16", "rand-qwen2-BF16"})
    void batchedPromptEqualsTokenByToken(String stem) {
        try (Model m = Model.load(Path.of("../shared/models/" + stem + ".gguf"), 2)) {
            KernelWarmup.await(m.llama.weights.formatSamples());
            int[] tokens = m.tokenizer.encode("The quick brown fox jumps over the lazy dog. def fibonacci(n): return n");
            int n = tokens.length;
            assertTrue(n >= 17, "the prompt less its last token must fill a group of lanes");

            Llama.State single = m.llama.newState(n, 1, false);
            float[][] expected = new float[n][];
            for (int p = 0; p < n; p++) {
                m.llama.forward(single, tokens, p, 1, p);
                expected[p] = single.logits[0].clone();
            }

            Llama.State whole = m.llama.newState(n, n, true);
            m.llama.forward(whole, tokens, 0, n, 0);
            for (int p = 0; p < n; p++) assertArrayEquals(expected[p], whole.logits[p], "position " + p + " (one batch)");

            // Batches of 5 that do not divide the prompt: later batches attend to earlier ones through the cache.
            Llama.State chunked = m.llama.newState(n, 5, false);
            m.llama.forward(chunked, tokens, 0, n, 0);
            assertArrayEquals(expected[n - 1], chunked.logits[0], "last position (batches of 5)");

            // A state whose rows grow with its batches: 3 tokens, then the rest as one batch.
            Llama.State growing = m.llama.newState(n, n, false);
            m.llama.forward(growing, tokens, 0, 3, 0);
            assertArrayEquals(expected[2], growing.logits[0], "position 2 (a first batch of 3)");
            m.llama.forward(growing, tokens, 3, n - 3, 3);
            assertArrayEquals(expected[n - 1], growing.logits[0], "last position (the rest, after the rows grew)");

            // A batch whose first tokens only the lane kernels read (prepared without the row kernels'
            // widened codes), then a token alone in the same rows, which the row kernels read.
            Llama.State reused = m.llama.newState(n, n, false);
            m.llama.forward(reused, tokens, 0, n - 1, 0);
            assertArrayEquals(expected[n - 2], reused.logits[0], "position n - 2 (a batch of n - 1)");
            m.llama.forward(reused, tokens, n - 1, 1, n - 1);
            assertArrayEquals(expected[n - 1], reused.logits[0], "last position (alone, after the batch)");
        }
    }

    /**
     * Q8_K activations (Q4_K_M) have the most widened forms: a batch whose first tokens skip them, then
     * a token alone in the same rows, near token by token. Not equal: a batch's complete groups of 4
     * follow llama.cpp's 4-row gemm order ({@link dev.vecllama.activation.Activation#quad}), and a float
     * summed in another order can round an activation to the next int8 step; here the logits move by
     * up to 0.12.
     */
    @Test
    void tokenAloneAfterLaneOnlyBatch() {
        try (Model m = Model.load(Path.of("../shared/models/vl-tiny-f-Q4_K_M.gguf"), 2)) {
            KernelWarmup.await(m.llama.weights.formatSamples());
            int[] tokens = m.tokenizer.encode("The quick brown fox jumps over the lazy dog. def fibonacci(n): return n");
            int n = tokens.length;
            assertTrue(n >= 17, "the prompt less its last token must fill a group of lanes");
            Llama.State single = m.llama.newState(n, 1, false);
            m.llama.forward(single, tokens, 0, n, 0);
            Llama.State reused = m.llama.newState(n, n, false);
            m.llama.forward(reused, tokens, 0, n - 1, 0);
            m.llama.forward(reused, tokens, n - 1, 1, n - 1);
            float[] expected = single.logits[0], actual = reused.logits[0];
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], actual[i], 0.25f, "logit " + i);
            }
        }
    }
}
