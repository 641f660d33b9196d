package dev.vecllama.tokenizer;

import dev.vecllama.gguf.GGUFFile;

import java.nio.charset.StandardCharsets;

/**
 * SentencePiece-style BPE ({@code tokenizer.ggml.model = llama}, llama.cpp's llm_tokenizer_spm): spaces become
 * U+2581, the text gets one in front, and neighbouring pieces merge by the score of the token they would form,
 * highest first. A character no token covers falls back to its UTF-8 bytes as {@code <0xNN>} tokens.
 */
final class SentencePieceTokenizer extends BaseTokenizer {
    static final String KEY_ADD_SPACE_PREFIX = "tokenizer.ggml.add_space_prefix";
    private static final char SPACE = '\u2581';

    private final boolean addSpacePrefix;
    private final int[] byteTokens = new int[256];

    private SentencePieceTokenizer(Vocabulary vocab, boolean addSpacePrefix) {
        super(vocab);
        this.addSpacePrefix = addSpacePrefix;
        for (int b = 0; b < 256; b++) {
            int id = vocab.id(String.format("<0x%02X>", b));
            if (id < 0 && b < 0x80) id = vocab.id(String.valueOf((char) b));
            // without byte tokens an uncovered character can only be unknown
            byteTokens[b] = id >= 0 ? id : vocab.unk;
        }
    }

    static SentencePieceTokenizer fromGGUF(GGUFFile f) {
        Vocabulary v = Vocabulary.read(f, new Vocabulary.Defaults(1, 2, 0, true));
        return new SentencePieceTokenizer(v, f.getBool(KEY_ADD_SPACE_PREFIX, true));
    }

    @Override
    void encodeText(String text, boolean afterSpecial, IntList out) {
        String s = (addSpacePrefix && afterSpecial ? " " + text : text).replace(' ', SPACE);
        int n = s.codePointCount(0, s.length());
        int[] start = new int[n];
        int[] len = new int[n];
        for (int i = 0, at = 0; i < n; i++) {
            start[i] = at;
            len[i] = Character.charCount(s.codePointAt(at));
            at += len[i];
        }
        PairMerger m = new PairMerger(start, len) {
            @Override
            long priority(int left, int right) {
                int id = vocab.id(s.substring(start[left], start[right] + len[right]));
                return id < 0 ? NO_MERGE : descending(vocab.score(id));
            }
        };
        m.run();
        for (int i = m.first(); i >= 0; i = m.next(i)) {
            String piece = s.substring(start[i], start[i] + len[i]);
            int id = vocab.id(piece);
            if (id >= 0) {
                out.add(id);
            } else {
                for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
                    if (byteTokens[b & 0xFF] >= 0) out.add(byteTokens[b & 0xFF]);
                }
            }
        }
    }

    /** An int that orders scores from highest to lowest (-0.0 and 0.0 tie, as they compare in llama.cpp). */
    private static long descending(float score) {
        int bits = Float.floatToIntBits(score == 0 ? 0f : score);
        int ascending = bits ^ ((bits >> 31) & 0x7FFFFFFF);
        return ~ascending;
    }

    @Override
    byte[] normalPiece(String text) {
        return text.replace(SPACE, ' ').getBytes(StandardCharsets.UTF_8);
    }

    @Override
    boolean stripsLeadingSpace() {
        return addSpacePrefix;
    }
}
