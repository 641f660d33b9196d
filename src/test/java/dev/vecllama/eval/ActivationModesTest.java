package dev.vecllama.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vecllama.activation.ActivationMode;
import dev.vecllama.activation.Calibrator;
import dev.vecllama.activation.Calibrator.Method;
import dev.vecllama.model.ActivationScalesFile;
import dev.vecllama.model.ActivationSettings;
import dev.vecllama.model.Llama;
import dev.vecllama.model.Model;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Static and f32 activations on the real model, against today's dynamic quantization. */
class ActivationModesTest {
    private static final Path MODELS = Path.of("../shared/models");
    private static final Path F16 = MODELS.resolve("vl-tiny-f-F16.gguf");
    private static final int CTX = 64, CHUNKS = 3;

    @TempDir
    static Path dir;
    static Path scales;
    static String valid;

    @BeforeAll
    static void calibrate() throws IOException {
        valid = Files.readString(Path.of("../shared/text/valid.txt")).substring(0, 12000);
        String calib = Files.readString(Path.of("../shared/text/calib.txt")).substring(0, 12000);
        scales = dir.resolve("scales.gguf");
        try (Model m = Model.load(F16, 2)) {
            ChunkPlan plan = Calibration.plan(m, calib, CTX, 3);
            Calibrator[] c = Calibration.run(m, plan, CTX, null);
            ActivationScalesFile.write(scales, m, c, Method.ENTROPY, new ActivationScalesFile.Source("vl-tiny-f-F16.gguf", "calib.txt", CTX, 3, 3L * CTX));
        }
    }

    private static double ppl(String model, ActivationSettings act) {
        try (Model m = Model.load(MODELS.resolve(model), 2, null, act)) {
            return Perplexity.run(m, Perplexity.plan(m, valid, CTX, CHUNKS), CTX, null, null).ppl();
        }
    }

    private static ActivationSettings staticWith(Method m) {
        return new ActivationSettings(ActivationMode.STATIC, scales, m);
    }

    @Test
    @Tag("slow")
    void staticPerplexityIsNearDynamic() {
        for (String model : new String[] {"vl-tiny-f-Q4_0.gguf"}) {
            double dynamic = ppl(model, ActivationSettings.DYNAMIC);
            for (Method m : new Method[] {null, Method.MSE}) {
                double fixed = ppl(model, staticWith(m));
                assertNotEquals(dynamic, fixed, model + ": static scales must change the int8 activations");
                // Calibrated on three short chunks, one scale per input costs a few percent (5 % seen with entropy); a wrong scale costs far more.
                assertEquals(1, fixed / dynamic, 0.10, model + " " + m + ": static " + fixed + ", dynamic " + dynamic);
            }
        }
    }

    /** The logits of a prompt's every position with the given activations. */
    private static float[][] logits(String model, ActivationSettings act, int[] prompt) {
        try (Model m = Model.load(MODELS.resolve(model), 2, null, act)) {
            Llama.State s = m.llama.newState(prompt.length, prompt.length, true);
            m.llama.forward(s, prompt, 0, prompt.length, 0);
            float[][] out = new float[prompt.length][];
            for (int t = 0; t < prompt.length; t++) out[t] = s.logits[t].clone();
            return out;
        }
    }

    @Test
    void f32LogitsAreCloseToDynamic() {
        ActivationSettings f32 = new ActivationSettings(ActivationMode.F32, null, null);
        for (String model : new String[] {"vl-tiny-f-Q4_K_M.gguf", "vl-tiny-f-F16.gguf"}) assertClose(model, f32, 0.05, 0.9);
    }

    @Test
    void staticLogitsAreCloseToDynamic() {
        // One scale per input, from three short chunks: about one position in ten changes its top token (44 of 50 seen with entropy).
        assertClose("vl-tiny-f-Q4_0.gguf", staticWith(Method.MSE), 0.15, 0.8);
    }

    /**
     * Over a short prompt, {@code act}'s logits differ from dynamic ones (so the mode is in effect)
     * by less than {@code tolerance} of the largest logit, and rank the same token first at a
     * {@code sameTopShare} of the positions at least.
     */
    private static void assertClose(String model, ActivationSettings act, double tolerance, double sameTopShare) {
        int[] prompt;
        try (Model m = Model.load(F16, 1)) {
            prompt = m.tokenizer.encode(valid.substring(0, 200), true, false);
        }
        float[][] d = logits(model, ActivationSettings.DYNAMIC, prompt), f = logits(model, act, prompt);
        double maxDiff = 0, spread = 0;
        int sameTop = 0;
        for (int t = 0; t < prompt.length; t++) {
            for (int v = 0; v < d[t].length; v++) {
                maxDiff = Math.max(maxDiff, Math.abs(d[t][v] - f[t][v]));
                spread = Math.max(spread, Math.abs(d[t][v]));
            }
            if (argmax(d[t]) == argmax(f[t])) sameTop++;
        }
        assertTrue(maxDiff > 0, model + ": " + act.mode() + " must not be the dynamic path");
        assertTrue(maxDiff < tolerance * spread, model + ": logits differ by " + maxDiff + " (largest " + spread + ")");
        assertTrue(sameTop >= sameTopShare * prompt.length, model + ": same top token at " + sameTop + " of " + prompt.length);
    }

    private static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
