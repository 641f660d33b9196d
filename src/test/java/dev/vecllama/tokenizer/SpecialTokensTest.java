package dev.vecllama.tokenizer;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Control-token texts in the input, and how control tokens print. */
class SpecialTokensTest {

    @Test
    void llama3ControlTextsMapToTheirIdsOnlyWhenParsed() {
        Tokenizer t = LlamaCppVocabTest.tokenizer("llama-bpe");
        String text = "<|begin_of_text|>Hello<|eot_id|>";
        assertArrayEquals(new int[] {128000, 9906, 128009}, t.encode(text, false, true));
        int[] plain = t.encode(text, false, false);
        for (int id : plain) assertFalse(t.isSpecial(id), "control text read as a control token when not parsing");
        assertEquals(text, t.decode(plain));
        assertEquals("Hello", t.decode(new int[] {128000, 9906, 128009}));
        assertEquals(text, t.decode(new int[] {128000, 9906, 128009}, true));
        assertEquals(0, t.decodeBytes(128009).length);
        assertEquals("<|begin_of_text|>", t.tokenText(t.bos()));
        assertTrue(t.addBosByDefault());
        assertEquals(128256, t.vocabSize());
    }

    @Test
    void sentencePieceAddsTheSpaceAgainAfterAControlToken() {
        Tokenizer t = LlamaCppVocabTest.tokenizer("llama-spm");
        assertArrayEquals(new int[] {1, 15043, 2, 3186}, t.encode("<s>Hello</s>world", false, true));
        assertArrayEquals(new int[] {1, 15043, 2, 3186}, t.encode("Hello</s>world", true, true));
        assertArrayEquals(new int[] {0}, t.encode("<unk>", false, true));
        assertFalse(java.util.Arrays.stream(t.encode("<s>Hello", false, false)).anyMatch(t::isSpecial));
        assertEquals("Hello world", t.decode(new int[] {1, 15043, 2, 3186}));
        assertEquals(2, t.eos());
    }
}
