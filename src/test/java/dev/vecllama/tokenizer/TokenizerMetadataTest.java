package dev.vecllama.tokenizer;

import dev.vecllama.gguf.GGUFFile;
import dev.vecllama.gguf.GGUFWriter;
import dev.vecllama.gguf.MetadataValue;
import dev.vecllama.gguf.ValueType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tiny vocabularies written on the fly: how metadata is read, and the merge order on cases built to show it. */
class TokenizerMetadataTest {

    private static GGUFWriter spm(String[] tokens, float[] scores) {
        int[] types = new int[tokens.length];
        for (int i = 0; i < tokens.length; i++) types[i] = tokens[i].startsWith("<0x") ? 6 : i < 3 ? (i == 0 ? 2 : 3) : 1;
        return new GGUFWriter()
                .put("tokenizer.ggml.model", MetadataValue.string("llama"))
                .put("tokenizer.ggml.tokens", MetadataValue.array(ValueType.STRING, tokens))
                .put("tokenizer.ggml.scores", MetadataValue.array(ValueType.FLOAT32, scores))
                .put("tokenizer.ggml.token_type", MetadataValue.array(ValueType.INT32, types));
    }

    private static GGUFWriter bpe(String[] tokens, String[] merges) {
        return new GGUFWriter()
                .put("tokenizer.ggml.model", MetadataValue.string("gpt2"))
                .put("tokenizer.ggml.pre", MetadataValue.string("gpt-2"))
                .put("tokenizer.ggml.tokens", MetadataValue.array(ValueType.STRING, tokens))
                .put("tokenizer.ggml.merges", MetadataValue.array(ValueType.STRING, merges))
                .put("tokenizer.ggml.bos_token_id", MetadataValue.uint32(0))
                .put("tokenizer.ggml.eos_token_id", MetadataValue.uint32(0));
    }

    private static Tokenizer load(GGUFWriter w) {
        return Tokenizer.fromGGUF(GGUFFile.of(MemorySegment.ofArray(w.toBytes())));
    }

    private static String failure(GGUFWriter w) {
        return assertThrows(IllegalArgumentException.class, () -> load(w)).getMessage();
    }

    private static final String[] SPM_TOKENS = {"<unk>", "<s>", "</s>", "▁", "a", "b", "c", "aa", "ab", "bc", "<0xC3>", "<0xA9>"};

    @Test
    void spmMergesTheBestScoringPairFirst() {
        float[] scores = new float[SPM_TOKENS.length];
        scores[8] = -5; // ab
        scores[9] = -1; // bc: better, so "abc" is a + bc
        Tokenizer t = load(spm(SPM_TOKENS, scores));
        assertArrayEquals(new int[] {1, 3, 4, 9}, t.encode("abc", true, false));
        scores[8] = -0.5f; // now ab is better
        assertArrayEquals(new int[] {3, 8, 6}, load(spm(SPM_TOKENS, scores)).encode("abc", false, false));
    }

    @Test
    void spmBreaksTiesToTheLeftAndFallsBackToBytes() {
        Tokenizer t = load(spm(SPM_TOKENS, new float[SPM_TOKENS.length]));
        assertArrayEquals(new int[] {3, 7, 4}, t.encode("aaa", false, false)); // aa + a, not a + aa
        assertArrayEquals(new int[] {3, 10, 11}, t.encode("é", false, false)); // U+00E9 is C3 A9
        assertEquals("é", t.decode(new int[] {3, 10, 11}));
        assertArrayEquals(new byte[] {' '}, t.decodeBytes(3)); // a piece keeps its space, only decode strips it
    }

    @Test
    void spmReadsSpecialIdsAndFlags() {
        GGUFWriter w = spm(SPM_TOKENS, new float[SPM_TOKENS.length])
                .put("tokenizer.ggml.add_bos_token", MetadataValue.of(ValueType.BOOL, false))
                .put("tokenizer.ggml.add_space_prefix", MetadataValue.of(ValueType.BOOL, false));
        Tokenizer t = load(w);
        assertEquals(1, t.bos());
        assertEquals(2, t.eos());
        assertFalse(t.addBosByDefault());
        assertArrayEquals(new int[] {7, 4}, t.encode("aaa"));
        assertTrue(t.isSpecial(1) && t.isSpecial(0) && !t.isSpecial(7));
        assertEquals("aaa", t.decode(new int[] {1, 7, 4, 2}));
        assertEquals("<s>aaa</s>", t.decode(new int[] {1, 7, 4, 2}, true));
    }

    @Test
    void userDefinedTokensAreCutOutEvenWithoutParsingSpecials() {
        String[] tokens = {"<unk>", "<s>", "</s>", "▁", "a", "<x>"};
        Tokenizer t = load(spm(tokens, new float[tokens.length])
                .put("tokenizer.ggml.token_type", MetadataValue.array(ValueType.INT32, new int[] {2, 3, 3, 1, 1, 4})));
        assertArrayEquals(new int[] {3, 4, 5, 3, 4}, t.encode("a<x>a", false, false));
        assertFalse(t.isSpecial(5));
        assertEquals("a<x> a", t.decode(new int[] {3, 4, 5, 3, 4}));
    }

    @Test
    void bpeMergesByRankThenLeftmost() {
        String[] tokens = {"!", "a", "b", "c", "ab", "bc", "aa"};
        Tokenizer t = load(bpe(tokens, new String[] {"b c", "a b", "a a"}));
        assertArrayEquals(new int[] {1, 5}, t.encode("abc", false, false));
        assertArrayEquals(new int[] {6, 1}, t.encode("aaa", false, false));
        t = load(bpe(tokens, new String[] {"a b", "b c"}));
        assertArrayEquals(new int[] {4, 3}, t.encode("abc", false, false));
    }

    @Test
    void bpeSpellsAMergeResultThatIsNoTokenInAsciiBytes() {
        // "a b" makes "ab", which is not a token: llama.cpp then emits the single-byte tokens it can find
        Tokenizer t = load(bpe(new String[] {"!", "a", "b"}, new String[] {"a b"}));
        assertArrayEquals(new int[] {1, 2}, t.encode("ab", false, false));
    }

    @Test
    void badMetadataNamesTheProblem() {
        float[] scores = new float[SPM_TOKENS.length];
        assertEquals("missing tokenizer.ggml.model", failure(spm(SPM_TOKENS, scores).remove("tokenizer.ggml.model")));
        assertEquals("unsupported tokenizer.ggml.model 'rwkv'",
                failure(spm(SPM_TOKENS, scores).put("tokenizer.ggml.model", MetadataValue.string("rwkv"))));
        assertEquals("missing tokenizer.ggml.tokens", failure(spm(SPM_TOKENS, scores).remove("tokenizer.ggml.tokens")));
        assertEquals("tokenizer.ggml.scores has 2 entries for 12 tokens",
                failure(spm(SPM_TOKENS, scores).put("tokenizer.ggml.scores", MetadataValue.array(ValueType.FLOAT32, new float[2]))));
        assertEquals("duplicate token in vocabulary: 'a' has ids 1 and 2",
                failure(bpe(new String[] {"!", "a", "a"}, new String[0])));
        assertEquals("missing tokenizer.ggml.merges (required by tokenizer.ggml.model gpt2)",
                failure(bpe(new String[] {"!", "a"}, new String[0]).remove("tokenizer.ggml.merges")));
        assertEquals("unsupported tokenizer.ggml.pre 'foo'",
                failure(bpe(new String[] {"!", "a"}, new String[0]).put("tokenizer.ggml.pre", MetadataValue.string("foo"))));
        assertEquals("tokenizer.ggml.add_bos_token is true, but tokenizer.ggml.bos_token_id is not set",
                failure(bpe(new String[] {"!", "a"}, new String[0]).remove("tokenizer.ggml.bos_token_id")
                        .put("tokenizer.ggml.add_bos_token", MetadataValue.of(ValueType.BOOL, true))));
    }

    @Test
    void bpeWithoutPreFallsBackToDefault() {
        String[] tokens = {"!", "1", "2", "3", "4", "12", "34", "1234"};
        String[] merges = {"1 2", "3 4", "12 34"};
        assertArrayEquals(new int[] {7}, load(bpe(tokens, merges)).encode("1234", false, false));
        // "default" cuts digit runs into threes before merging
        Tokenizer t = load(bpe(tokens, merges).remove("tokenizer.ggml.pre"));
        assertArrayEquals(new int[] {5, 3, 4}, t.encode("1234", false, false));
    }
}
