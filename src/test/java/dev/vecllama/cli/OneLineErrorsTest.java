package dev.vecllama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vecllama.gguf.GGMLType;
import dev.vecllama.gguf.GGUFFile;
import dev.vecllama.gguf.GGUFWriter;
import dev.vecllama.gguf.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Bad input to the command line, as run.sh passes it: one line on stderr and a non-zero exit, never a trace. */
class OneLineErrorsTest {
    static final Path MODEL = Path.of("models/vl-tiny-f-Q4_K_M.gguf");

    @TempDir
    Path dir;

    static void assertOneLine(CliRun r, String expected) {
        assertTrue(r.failedWithOneLine(), () -> "exit " + r.exitCode() + ", stderr:\n" + r.err());
        assertTrue(r.err().contains(expected), () -> "expected '" + expected + "' in: " + r.err());
    }

    @Test
    void aPromptLongerThanTheContext() {
        CliRun r = CliRun.of(MODEL.toString(), "the list type ".repeat(10), "-c", "8", "-t", "1");
        assertOneLine(r, "error: the prompt is ");
        assertTrue(r.err().contains("but the context holds 8; raise -c/--ctx-size"), r.err());
        assertEquals("", r.out());
    }

    @ParameterizedTest
    @ValueSource(strings = {"-2", "-7"})
    void aNegativeTokenCountOtherThanMinusOne(String n) {
        // -c 16 keeps the run short should the count be taken for "until the context is full".
        assertOneLine(CliRun.of(MODEL.toString(), "The list type", "-n", n, "-c", "16", "-t", "1"),
                "error: -n/--n-predict must be -1 (no limit) or at least 0, got " + n);
        assertOneLine(CliRun.of("chat", MODEL.toString(), "-n", n), "error: -n/--n-predict must be -1");
    }

    @Test
    void badFlagsAndValues() {
        assertOneLine(CliRun.of(MODEL.toString(), "hi", "--bogus"), "error: Unknown option: '--bogus'");
        assertOneLine(CliRun.of(MODEL.toString(), "hi", "--temp", "hot"), "error: Invalid value for option '--temp'");
        assertOneLine(CliRun.of(MODEL.toString(), "hi", "--top-p", "2", "-t", "1"), "error: top-p must be in [0, 1]");
        assertOneLine(CliRun.of(MODEL.toString(), "hi", "-t", "0"), "error: -t/--threads must be at least 1");
    }

    /** A server given settings it cannot honour must say so rather than start; on its own thread so that one which starts fails the test instead of hanging it. */
    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void badServerSettings() {
        assertOneLine(CliRun.of("serve", MODEL.toString(), "--port", "70000", "-t", "1"), "error: --port must be in 0..65535");
        assertOneLine(CliRun.of("serve", MODEL.toString(), "--port", "0", "--max-body", "0", "-t", "1"),
                "error: --max-body must be at least 1 byte");
    }

    @Test
    void truncatedAndForeignFiles() throws IOException {
        byte[] whole = Files.readAllBytes(MODEL);
        Path cut = dir.resolve("cut.gguf");
        Files.write(cut, java.util.Arrays.copyOf(whole, whole.length - 1000));
        for (String verb : new String[] {"info", "run"}) {
            CliRun r = verb.equals("info") ? CliRun.of("info", cut.toString()) : CliRun.of(cut.toString(), "hi");
            assertOneLine(r, "past end of file (" + String.format(java.util.Locale.ROOT, "%,d", whole.length - 1000) + ")");
        }
        Path text = dir.resolve("notes.gguf");
        Files.writeString(text, "not a model\n");
        assertOneLine(CliRun.of(text.toString(), "hi"), "not a GGUF file (bad magic)");
        assertOneLine(CliRun.of(dir.resolve("absent.gguf").toString(), "hi"), "no such file");
    }

    @Test
    void aTensorOfATypeWeCannotComputeWithIsNamed() throws IOException {
        // IQ4_NL packs 256 weights in 144 bytes, as Q4_K does, so only the type id changes.
        Path retyped = dir.resolve("iq4_nl.gguf");
        try (GGUFFile f = GGUFFile.open(MODEL)) {
            GGUFWriter w = new GGUFWriter().putAll(f.metadataCopy());
            for (TensorInfo t : f.tensors().values()) {
                GGMLType type = t.name().equals("blk.2.attn_q.weight") ? GGMLType.IQ4_NL : t.type();
                w.addTensor(t.name(), type, t.dims(), f.tensorData(t));
            }
            w.write(retyped);
        }
        CliRun info = CliRun.of("info", retyped.toString());
        assertEquals(0, info.exitCode(), info.err());
        assertTrue(info.out().contains("IQ4_NL x1"), info.out());
        assertOneLine(CliRun.of(retyped.toString(), "hi", "-t", "1"),
                "error: tensor blk.2.attn_q.weight has type IQ4_NL, which vecllama does not support");
    }
}
