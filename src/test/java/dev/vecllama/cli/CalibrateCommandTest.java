package dev.vecllama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vecllama.activation.Calibrator.Method;
import dev.vecllama.gguf.GGUFFile;
import dev.vecllama.gguf.GGUFWriter;
import dev.vecllama.model.ActivationScalesFile;
import dev.vecllama.model.LinearInputs;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** calibrate on a slice of calib.txt with the real F16 model, and every bad input of calibrate and --act-quant. */
class CalibrateCommandTest {
    private static final Path MODELS = Path.of("../shared/models");
    private static final String F16 = MODELS.resolve("vl-tiny-f-F16.gguf").toString();
    private static final int LAYERS = 6;

    @TempDir
    static Path dir;
    static Path calib, valid, scales;

    /** Exit code and everything the command wrote to stderr. */
    private record Result(int code, String err) {
        List<String> lines() {
            return err.lines().filter(l -> !l.isBlank()).toList();
        }
    }

    private static Result run(String... args) {
        PrintStream saved = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            return new Result(Main.run(args), buf.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(saved);
        }
    }

    private static Path slice(String name, String from, int chars) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, Files.readString(Path.of(from)).substring(0, chars));
        return p;
    }

    @BeforeAll
    static void calibrate() throws IOException {
        calib = slice("calib-slice.txt", "../shared/text/calib.txt", 8000);
        valid = slice("valid-slice.txt", "../shared/text/valid.txt", 8000);
        scales = dir.resolve("scales.gguf");
        Result r = run("calibrate", F16, "-f", calib.toString(), "-o", scales.toString(), "-c", "64", "--chunks", "2", "-t", "2", "--method", "mse");
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void sidecarHoldsAScaleForEveryLinearInput() {
        try (GGUFFile f = GGUFFile.open(scales)) {
            assertEquals(0, f.tensors().size(), "metadata only");
            assertEquals("mse", f.getString("vecllama.act_scales.method"));
            assertEquals("vl-tiny-f-F16.gguf", f.getString("vecllama.act_scales.model"));
            assertEquals("calib-slice.txt", f.getString("vecllama.act_scales.text"));
            assertEquals(2, f.getInt("vecllama.act_scales.chunks"));
            assertEquals(25, LinearInputs.count(LAYERS));
            for (int i = 0; i < LinearInputs.count(LAYERS); i++) {
                String input = LinearInputs.name(i, LAYERS);
                float absmax = f.getFloat(ActivationScalesFile.key(Method.ABSMAX, input), Float.NaN);
                assertTrue(absmax > 0, input);
                float chosen = f.getFloat(ActivationScalesFile.key(input), Float.NaN);
                assertEquals(f.getFloat(ActivationScalesFile.key(Method.MSE, input), Float.NaN), chosen, input);
                for (Method m : Method.values()) {
                    float s = f.getFloat(ActivationScalesFile.key(m, input), Float.NaN);
                    assertTrue(s > 0 && s <= absmax, input + " " + m.id + " scale " + s + ", absmax/127 " + absmax);
                }
            }
            // The SwiGLU output has outliers: a clipping method must cut into its range.
            assertTrue(f.getFloat(ActivationScalesFile.key(Method.P99_9, "blk.0.ffn_down"), 0)
                    < f.getFloat(ActivationScalesFile.key(Method.ABSMAX, "blk.0.ffn_down"), 0));
        }
    }

    /** A failure is exactly one line on stderr naming the problem, a non-zero exit, and no file left behind. */
    private static void fails(String expected, Path mustNotExist, String... args) throws IOException {
        List<Path> before;
        try (Stream<Path> s = Files.list(dir)) {
            before = s.sorted().toList();
        }
        Result r = run(args);
        assertNotEquals(0, r.code(), r.err());
        assertEquals(1, r.lines().size(), r.err());
        assertTrue(r.err().contains(expected), "expected '" + expected + "' in: " + r.err());
        if (mustNotExist != null) assertTrue(Files.notExists(mustNotExist), mustNotExist + " was written");
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(before, s.sorted().toList(), "files appeared in " + dir);
        }
    }

    @Test
    void badCalibrateInputs() throws IOException {
        Path out = dir.resolve("out.gguf");
        Path empty = Files.writeString(dir.resolve("empty.txt"), "  \n");
        Path tiny = Files.writeString(dir.resolve("tiny.txt"), "The list type");
        fails("no such text file", out, "calibrate", F16, "-f", dir.resolve("missing.txt").toString(), "-o", out.toString());
        fails("missing -f TEXT", out, "calibrate", F16, "-o", out.toString());
        fails("is empty", out, "calibrate", F16, "-f", empty.toString(), "-o", out.toString());
        fails("less than one chunk of -c 64", out, "calibrate", F16, "-f", tiny.toString(), "-o", out.toString(), "-c", "64");
        fails("unknown calibration method 'kl'", out, "calibrate", F16, "-f", calib.toString(), "-o", out.toString(), "--method", "kl");
        Path nowhere = dir.resolve("no-such-dir").resolve("out.gguf");
        fails("does not exist", nowhere, "calibrate", F16, "-f", calib.toString(), "-o", nowhere.toString());
        fails("would overwrite the model", null, "calibrate", F16, "-f", calib.toString(), "-o", F16);
    }

    @Test
    void badActivationOptions() throws IOException {
        String v = valid.toString();
        fails("--act-quant static needs --act-scales", null, "perplexity", F16, "-f", v, "-c", "64", "--act-quant", "static");
        fails("unknown activation mode 'int4'", null, "perplexity", F16, "-f", v, "-c", "64", "--act-quant", "int4");
        fails("only used with --act-quant static", null, "bench", F16, "--act-scales", scales.toString());
        fails("no such activation-scales file", null, "perplexity", F16, "-f", v, "-c", "64", "--act-quant", "static",
                "--act-scales", dir.resolve("none.gguf").toString());
        fails("is not an activation-scales file", null, "perplexity", F16, "-f", v, "-c", "64", "--act-quant", "static",
                "--act-scales", F16);
        fails("was calibrated on 'vl-tiny-f'", null, "perplexity", MODELS.resolve("vl-tiny-ternary-TQ2_0.gguf").toString(),
                "-f", v, "-c", "64", "--act-quant", "static", "--act-scales", scales.toString());
        Path partial = withoutKey(ActivationScalesFile.key(Method.ENTROPY, "blk.4.ffn_down"));
        fails("has no scale vecllama.act_scale.entropy.blk.4.ffn_down", null, "perplexity", F16, "-f", v, "-c", "64",
                "--act-quant", "static", "--act-scales", partial.toString(), "--act-scale-method", "entropy");
        Files.delete(partial);
    }

    private static Path withoutKey(String key) {
        Path p = dir.resolve("partial.gguf");
        try (GGUFFile f = GGUFFile.open(scales)) {
            new GGUFWriter().putAll(f.metadataCopy()).remove(key).write(p);
        }
        return p;
    }
}
