package dev.vecllama.tokenizer;

import dev.vecllama.gguf.GGUFFile;

/**
 * Text ↔ token ids, read entirely from a GGUF file's {@code tokenizer.ggml.*} metadata and matching
 * llama.cpp's tokenizer token for token.
 */
public interface Tokenizer {

    /**
     * Tokenizes {@code text}.
     *
     * @param addBos       put the BOS token first (llama.cpp's {@code add_special}; see {@link #addBosByDefault()})
     * @param parseSpecial map the texts of control tokens (such as {@code <s>} or {@code <|begin_of_text|>})
     *                     found in {@code text} to their ids; when false they are tokenized as plain text.
     *                     User-defined tokens are split out either way, as in llama.cpp.
     */
    int[] encode(String text, boolean addBos, boolean parseSpecial);

    /** A prompt as llama-cli tokenizes it: BOS as the model's metadata says, special texts parsed. */
    default int[] encode(String text) {
        return encode(text, addBosByDefault(), true);
    }

    /**
     * The text of a whole token sequence, as if it began the text: control tokens give nothing, and for
     * SentencePiece vocabularies the space that {@link #encode} put before the text is taken off again
     * (after a leading BOS too), so that {@code decode(encode(s, b, false)) == s}. Invalid UTF-8 becomes U+FFFD.
     * To print generated text piece by piece, join {@link #decodeBytes} instead.
     */
    default String decode(int[] tokens) {
        return decode(tokens, false);
    }

    /** As {@link #decode(int[])}; with {@code renderSpecial} control tokens give their own text. */
    String decode(int[] tokens, boolean renderSpecial);

    /**
     * The raw bytes of one token's piece, with no leading space removed (llama.cpp's token_to_piece); empty for
     * control tokens. A piece may end inside a multi-byte UTF-8 character that the next piece completes.
     */
    byte[] decodeBytes(int token);

    /** The BOS token id, or -1 if the vocabulary has none. */
    int bos();

    /** The EOS token id, or -1 if the vocabulary has none. */
    int eos();

    int vocabSize();

    /** Whether the model wants BOS before a prompt ({@code tokenizer.ggml.add_bos_token}, else llama.cpp's default). */
    boolean addBosByDefault();

    /** Whether generation stops at {@code token}: EOS, EOT/EOM, or a control token that ends a chat turn. */
    boolean isEndOfGeneration(int token);

    /** Whether {@code token} is a control (or unknown) token: llama.cpp does not print these. */
    boolean isSpecial(int token);

    /** The token's text exactly as the vocabulary stores it (e.g. {@code ▁the}, {@code Ġthe}, {@code <0x0A>}). */
    String tokenText(int id);

    /**
     * The tokenizer {@code tokenizer.ggml.model} names: {@code llama} (SentencePiece-style) or {@code gpt2}
     * (byte-level BPE). Bad or missing metadata is an {@link IllegalArgumentException} naming the problem.
     */
    static Tokenizer fromGGUF(GGUFFile f) {
        String model = f.getString(Vocabulary.KEY_MODEL, null);
        if (model == null) throw new IllegalArgumentException("missing " + Vocabulary.KEY_MODEL);
        return switch (model) {
            case "llama" -> SentencePieceTokenizer.fromGGUF(f);
            case "gpt2" -> BytePairTokenizer.fromGGUF(f);
            default -> throw new IllegalArgumentException("unsupported " + Vocabulary.KEY_MODEL + " '" + model + "'");
        };
    }
}
