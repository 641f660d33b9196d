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

    // Q4_K_M stands for the 4-bit files (k-quants and the Q6_K output); each whole-file run of a
    // 4-bit file costs about a minute on 2 cores, so Q4_0 and the ternary files are left to ReferenceTest.
    @ParameterizedTest
    @ValueSource(strings = {"vl-tiny-f-F16.gguf", "vl-tiny-f-Q8_0.gguf", "vl-tiny-f-Q4_K_M.gguf"})
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
