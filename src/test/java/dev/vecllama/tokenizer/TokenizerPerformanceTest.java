package dev.vecllama.tokenizer;

import dev.vecllama.gguf.GGUFFile;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Loading builds its tables once and encoding is O(n log n): generous bounds that a quadratic merge loop or
 * per-encode table building would still blow through by orders of magnitude on a loaded 2-core machine.
 */
class TokenizerPerformanceTest {

    private static long millisSince(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    @Test
    void llama3VocabularyLoadsQuickly() {
        try (GGUFFile f = GGUFFile.open(LlamaCppVocabTest.VOCAB.resolve("ggml-vocab-llama-bpe.gguf"))) {
            Tokenizer.fromGGUF(f); // warm-up: class loading and JIT
            long t0 = System.nanoTime();
            Tokenizer t = Tokenizer.fromGGUF(f);
            long ms = millisSince(t0);
            System.out.println("llama-bpe tokenizer from an open GGUF: " + ms + " ms");
            assertEquals(128256, t.vocabSize());
            assertTrue(ms < 3000, "building the llama-bpe tables took " + ms + " ms");
        }
    }

    @Test
    void longInputsEncodeInNearLinearTime() throws IOException {
        for (String name : List.of("llama-bpe", "gpt-2", "llama-spm")) {
            Tokenizer t = LlamaCppVocabTest.tokenizer(name);
            StringBuilder corpus = new StringBuilder();
            while (corpus.length() < 300_000) {
                for (LlamaCppVocabTest.Case c : LlamaCppVocabTest.cases(name)) corpus.append(c.text()).append('\n');
            }
            String oneWord = "a".repeat(100_000); // a single pre-tokenizer word: the merge loop's worst case
            String spaces = " ".repeat(100_000) + "x";
            for (String text : List.of(corpus.toString(), oneWord, spaces)) {
                long t0 = System.nanoTime();
                int[] ids = t.encode(text, false, false);
                long ms = millisSince(t0);
                System.out.println(name + ": " + text.length() + " chars -> " + ids.length + " tokens in " + ms + " ms");
                assertEquals(text, t.decode(ids));
                assertTrue(ms < 10_000, name + " took " + ms + " ms for " + text.length() + " chars");
            }
        }
    }
}
