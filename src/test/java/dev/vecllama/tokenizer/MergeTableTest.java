package dev.vecllama.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vecllama.gguf.GGUFFile;
import dev.vecllama.gguf.GGUFWriter;
import dev.vecllama.gguf.MetadataValue;
import dev.vecllama.gguf.StringArray;
import dev.vecllama.gguf.ValueType;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The merge table keyed by merge text still answers for pairs, as llama.cpp's table of (left, right) strings does. */
class MergeTableTest {
    private static final String[] TOKENS = {"x", "a", "b", "c", "a b", "b c", " ", "ab"};

    private static MergeTable table(String... merges) {
        GGUFWriter w = new GGUFWriter().put(Vocabulary.KEY_TOKENS, MetadataValue.array(ValueType.STRING, TOKENS));
        Vocabulary v = Vocabulary.read(GGUFFile.of(MemorySegment.ofArray(w.toBytes())), new Vocabulary.Defaults(0, 0, -1, false));
        return new MergeTable(v, StringArray.of(merges));
    }

    private static int id(String token) {
        return Arrays.asList(TOKENS).indexOf(token);
    }

    @Test
    void aMergeTextMatchesOnlyThePairItSplitsInto() {
        MergeTable t = table("a b c", "a b", "b c", "a b", "ab", "  a");
        assertEquals(0, t.rank(id("a"), id("b c")), "\"a b c\" splits at its first space");
        assertEquals(-1, t.rank(id("a b"), id("c")), "the same text, split at its second space, is no merge");
        assertEquals(1, t.rank(id("a"), id("b")), "a repeated merge keeps its first rank");
        assertEquals(2, t.rank(id("b"), id("c")));
        assertEquals(-1, t.rank(id("b"), id("a")));
        assertEquals(5, t.rank(id(" "), id("a")), "a part that is a space: the separator is looked for from the second character");
        assertEquals(-1, t.rank(id("a"), id("x")));
    }

    @Test
    void aMergeMakesTheSymbolOfItsPartsJoined() {
        MergeTable t = table("a b", "b c");
        assertEquals(id("ab"), t.result(t.rank(id("a"), id("b")), id("a"), id("b")));
        int extra = t.result(t.rank(id("b"), id("c")), id("b"), id("c")); // "bc" is no token: an id past the vocabulary
        assertEquals(TOKENS.length, extra);
        assertEquals("bc", new String(t.bytes(extra), StandardCharsets.UTF_8));
    }
}
