package dev.vecllama.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vecllama.model.Model;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Text shown while tokens stream in: whole UTF-8 characters, no control tokens, no stop strings. */
class StreamingTextTest {

    @Test
    void aCharacterSplitAcrossPiecesComesOutOnceWhole() {
        byte[] clef = "𝄞".getBytes(StandardCharsets.UTF_8); // 4 bytes
        byte[] euro = "€".getBytes(StandardCharsets.UTF_8);  // 3 bytes
        Utf8Decoder d = new Utf8Decoder();
        assertEquals("a", d.decode(new byte[] {'a', clef[0]}));
        assertEquals("", d.decode(new byte[] {clef[1]}));
        assertEquals("", d.decode(new byte[] {clef[2]}));
        assertEquals("𝄞" + "b", d.decode(new byte[] {clef[3], 'b', euro[0], euro[1]}));
        assertEquals("€", d.decode(new byte[] {euro[2]}));
        assertEquals("", d.finish());
    }

    @Test
    void bytesThatCanNeverBeACharacterBecomeReplacementCharacters() {
        Utf8Decoder d = new Utf8Decoder();
        assertEquals("x\uFFFDy", d.decode(new byte[] {'x', (byte) 0xFF, 'y'}));
        assertEquals("", d.decode(new byte[] {(byte) 0xE2, (byte) 0x82}));
        assertEquals("\uFFFD", d.finish());
        assertEquals("ok", d.decode("ok".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void tokensOfOneCharacterPrintItOnce() {
        try (Model m = TestModel.load()) {
            int[] tokens = m.tokenizer.encode("a𝄞b", false, false);
            assertTrue(tokens.length >= 5, "the test wants 𝄞 spelled in byte tokens: " + Arrays.toString(tokens));
            List<String> pieces = new ArrayList<>();
            TextStream s = new TextStream(m.tokenizer, false, List.of(), pieces::add);
            for (int t : tokens) assertTrue(s.accept(t));
            s.finish();
            assertTrue(pieces.contains("𝄞"), pieces.toString());
            assertEquals(" a𝄞b", String.join("", pieces));
            assertFalse(s.text().contains("\uFFFD"));
        }
    }

    @Test
    void controlTokensAreHiddenUnlessAsked() {
        try (Model m = TestModel.load()) {
            int eos = m.tokenizer.eos();
            StringBuilder hidden = new StringBuilder(), shown = new StringBuilder();
            TextStream quiet = new TextStream(m.tokenizer, false, List.of(), hidden::append);
            TextStream loud = new TextStream(m.tokenizer, true, List.of(), shown::append);
            for (TextStream s : List.of(quiet, loud)) {
                s.accept(eos);
                s.finish();
            }
            assertEquals("", hidden.toString());
            assertEquals(m.tokenizer.tokenText(eos), shown.toString());
        }
    }

    @Test
    void stopStringsAreNeverShownNotEvenInPart() {
        StopStrings s = new StopStrings(List.of("<|im_end|>", "STOP"));
        assertEquals("Hel", s.push("Hel"));
        assertEquals("lo ", s.push("lo <|im"));
        assertEquals("<|imx", s.push("x")); // a false start is released
        assertEquals("", s.push("ST"));
        assertFalse(s.stopped());
        assertEquals("", s.push("OP and"));
        assertTrue(s.stopped());
        assertEquals("", s.push("more"));
    }

    @Test
    void heldBackTextComesOutAtTheEnd() {
        StopStrings s = new StopStrings(List.of("<|im_end|>"));
        assertEquals("Hi", s.push("Hi"));
        assertEquals(" there", s.push(" there<|im_"));
        assertEquals("", s.push("en"));
        assertEquals("<|im_en", s.flush());
        assertFalse(s.stopped());
    }
}
