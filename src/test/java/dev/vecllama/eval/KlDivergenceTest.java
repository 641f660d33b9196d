package dev.vecllama.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vecllama.model.Model;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The base-file round trip and the divergence statistics, on three short chunks of the real model. */
class KlDivergenceTest {
    private static final Path MODELS = Path.of("../shared/models");
    private static final int CTX = 64, CHUNKS = 3;

    @TempDir
    static Path dir;
    static Path base;
    static NllStats basePerplexity;

    @BeforeAll
    static void writeBase() throws IOException {
        base = dir.resolve("f16.kld");
        String text = Files.readString(Path.of("../shared/text/valid.txt"));
        try (Model m = Model.load(MODELS.resolve("vl-tiny-f-F16.gguf"), 2)) {
            ChunkPlan plan = Perplexity.plan(m, text, CTX, CHUNKS);
            try (KldBaseFile.Writer w = new KldBaseFile.Writer(base, plan, m.config.vocabSize())) {
                basePerplexity = Perplexity.run(m, plan, 64, w, null);
                w.commit();
            }
        }
    }

    private static KlDivergence compare(String model) {
        try (Model m = Model.load(MODELS.resolve(model), 2); KldBaseFile.Reader r = new KldBaseFile.Reader(base)) {
            return Perplexity.compare(m, r, 64, null);
        }
    }

    @Test
    void aModelDoesNotDivergeFromItself() {
        KlDivergence k = compare("vl-tiny-f-F16.gguf");
        assertEquals(CHUNKS * (CTX / 2 - 1), k.count());
        assertEquals(basePerplexity.ppl(), k.nll().ppl(), 1e-5, "same model, same tokens, same perplexity");
        assertEquals(1.0, k.sameTopFraction());
        assertTrue(Math.abs(k.meanKld()) < 1e-5, "only the 16-bit storage of the base separates them: " + k.meanKld());
    }

    @Test
    void q8_0DivergesALittle() {
        KlDivergence k = compare("vl-tiny-f-Q8_0.gguf");
        assertTrue(k.meanKld() > 1e-4 && k.meanKld() < 5e-3, "mean KLD " + k.meanKld());
        assertTrue(k.sameTopFraction() > 0.9 && k.sameTopFraction() < 1, "same top " + k.sameTopFraction());
    }

    @Test
    void aModelWithAnotherVocabularyIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> compare("rand-qwen2-BF16.gguf"));
        assertEquals("the KL-divergence base has a vocabulary of 32000 tokens, this model 50257: they are not the same model family",
                e.getMessage());
    }

    @Test
    void damagedBaseFilesAreRefused() throws IOException {
        byte[] good = Files.readAllBytes(base);
        assertRefused(Arrays.copyOf(good, good.length - 1), "truncated?");
        byte[] magic = good.clone();
        magic[0] = 'X';
        assertRefused(magic, "not a vecllama KL-divergence base file");
        byte[] version = good.clone();
        ByteBuffer.wrap(version).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 2);
        assertRefused(version, "version 2");
        assertRefused(new byte[5], "not a vecllama KL-divergence base file");
    }

    private static void assertRefused(byte[] content, String expected) throws IOException {
        Path p = dir.resolve("bad.kld");
        Files.write(p, content, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new KldBaseFile.Reader(p).close());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
