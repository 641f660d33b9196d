package dev.vecllama.gguf;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.function.Executable;

/** Assertions on the reader's one promise about bad input: a GGUFFormatException whose message is one helpful line. */
final class GGUFAssert {
    private GGUFAssert() {}

    static GGUFFormatException assertRejected(byte[] file, String... fragments) {
        return assertFails(() -> SampleGGUF.parse(file).close(), fragments);
    }

    static GGUFFormatException assertFails(Executable call, String... fragments) {
        GGUFFormatException e = assertThrows(GGUFFormatException.class, call);
        assertOneLine(e);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "message \"" + e.getMessage() + "\" lacks \"" + f + "\"");
        }
        return e;
    }

    static void assertOneLine(GGUFFormatException e) {
        String m = e.getMessage();
        assertTrue(m != null && !m.isBlank(), "empty message");
        assertFalse(m.contains("\n") || m.contains("\r"), () -> "message spans lines: " + m);
    }
}
