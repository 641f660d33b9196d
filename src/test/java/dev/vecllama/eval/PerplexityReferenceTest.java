package dev.vecllama.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vecllama.model.Model;
import dev.vecllama.testutil.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Whole-file perplexity and KL-divergence against llama.cpp's numbers (about a minute per model on 2 cores). */
@Tag("slow")
class PerplexityReferenceTest {
    private static final Path SHARED = Path.of("../shared");

    @SuppressWarnings("unchecked")
    private static Map<String, Object> reference(String model) throws IOException {
        Map<String, Object> ref = (Map<String, Object>) Json.parse(Files.readString(SHARED.resolve("reference/perplexity.json")));
        assertEquals(256.0, ref.get("context"));
        return (Map<String, Object>) ((Map<String, Object>) ref.get("models")).get(model);
    }

    private static String text() throws IOException {
        return Files.readString(SHARED.resolve("text/valid.txt"));
    }

    // A whole-file pass costs about two minutes on 2 cores (every position's logits), so CI checks
    // the two files that pin the arithmetic down; the 4-bit files' per-position logits are
    // ReferenceTest's (Q4_K_M measured by hand: 29.4880 ± 0.76470 against llama.cpp's 29.477 ± 0.76433).
    @ParameterizedTest
    @ValueSource(strings = {"vl-tiny-f-F16.gguf", "vl-tiny-f-Q8_0.gguf"})
    void perplexityMatchesLlamaCpp(String model) throws IOException {
        Map<String, Object> ref = reference(model);
        try (Model m = Model.load(SHARED.resolve("models").resolve(model), 2)) {
            NllStats s = Perplexity.run(m, Perplexity.plan(m, text(), 256, -1), 256, null, null);
            double ppl = (Double) ref.get("ppl"), err = (Double) ref.get("ppl_stderr");
            assertEquals(ppl, s.ppl(), 0.005 * ppl, model + " PPL");
            assertEquals(err, s.pplStderr(), 0.01 * err, model + " PPL standard error");
        }
    }

    @Test
    void q8_0KlDivergenceMatchesLlamaCpp(@TempDir Path dir) throws IOException {
        Path base = dir.resolve("f16.kld");
        try (Model m = Model.load(SHARED.resolve("models/vl-tiny-f-F16.gguf"), 2);
             KldBaseFile.Writer w = new KldBaseFile.Writer(base, Perplexity.plan(m, text(), 256, -1), m.config.vocabSize())) {
            Perplexity.run(m, Perplexity.plan(m, text(), 256, -1), 256, w, null);
            w.commit();
        }
        Map<String, Object> ref = reference("vl-tiny-f-Q8_0.gguf");
        try (Model m = Model.load(SHARED.resolve("models/vl-tiny-f-Q8_0.gguf"), 2); KldBaseFile.Reader r = new KldBaseFile.Reader(base)) {
            KlDivergence k = Perplexity.compare(m, r, 256, null);
            double kld = (Double) ref.get("mean_kld_vs_f16"), top = (Double) ref.get("same_top_token_pct");
            assertEquals(kld, k.meanKld(), 0.05 * kld, "mean KLD");
            assertEquals(top, 100 * k.sameTopFraction(), 0.5, "same top token %");
        }
    }
}
