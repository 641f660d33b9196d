package dev.vecllama.tokenizer;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Word splits that follow from llama.cpp's regexes and its Unicode tables, case by case. */
class PreTokenizerTest {

    private static List<String> words(String pre, String text) {
        return PreTokenizer.forName(pre).split(text).stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList();
    }

    @Test
    void qwen2TakesDigitsOneByOne() {
        assertEquals(List.of("abc", " ", "1", "2", "3", "4", "5", " def"), words("qwen2", "abc 12345 def"));
    }

    @Test
    void llama3TakesDigitsInThrees() {
        assertEquals(List.of("123", "456", "7", " x"), words("llama-bpe", "1234567 x"));
    }

    @Test
    void contractionsIgnoreCaseOnlyWhereLlamaCppDoes() {
        assertEquals(List.of("I", "'M", " HERE"), words("llama-bpe", "I'M HERE"));
        assertEquals(List.of("I", "'M", " HERE"), words("qwen2", "I'M HERE"));
        assertEquals(List.of("I", "'", "M", " HERE"), words("gpt-2", "I'M HERE"));
        assertEquals(List.of("I", "'m", " here"), words("gpt-2", "I'm here"));
    }

    @Test
    void lastSpaceOfARunGoesWithTheNextWord() {
        assertEquals(List.of("a", "  ", " b", "   "), words("gpt-2", "a   b   "));
        assertEquals(List.of("a", " \n\n", " b"), words("llama-bpe", "a \n\n b"));
    }

    @Test
    void whitespaceIsUnicodeWhiteSpaceNotJavaWhitespace() {
        // U+00A0 is White_Space (so \s) for llama.cpp, though Character.isWhitespace says no;
        // U+001F is the other way round.
        assertEquals(List.of("a", "\u00A0", "\u00A0", "b"), words("gpt-2", "a\u00A0\u00A0b"));
        assertEquals(List.of("a", "\u001F\u001F", "b"), words("gpt-2", "a\u001F\u001Fb"));
    }

    @Test
    void nonAsciiLettersAndNumbersKeepTheirClass() {
        assertEquals(List.of("нещо", " на", " ", "٣", "٤", "٥"), words("qwen2", "нещо на ٣٤٥"));
        assertEquals(List.of("日本語", "—x", "—!"), words("llama-bpe", "日本語—x—!"));
    }

    @Test
    void defaultAppliesItsFourRegexesInTurn() {
        assertEquals(List.of("Hello", ",", " world", "!!!", " ", "123", "45"), words("default", "Hello, world!!! 12345"));
    }

    @Test
    void wordsCoverTheTextExactly() {
        String text = "Les modèles — 模型量化 🚀!\n\tTabs  and\r\n  spaces 😶‍🌫️ 1234";
        for (String pre : List.of("default", "gpt-2", "llama-bpe", "qwen2")) {
            assertEquals(text, String.join("", words(pre, text)), pre);
        }
    }

    @Test
    void unknownPreIsAnError() {
        var e = assertThrows(IllegalArgumentException.class, () -> PreTokenizer.forName("foo"));
        assertEquals("unsupported tokenizer.ggml.pre 'foo'", e.getMessage());
    }

    @Test
    void missingPreIsDefault() {
        assertEquals(words("default", "Hello, world!!! 12345"), words(null, "Hello, world!!! 12345"));
    }
}
