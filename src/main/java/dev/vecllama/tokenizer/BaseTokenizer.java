package dev.vecllama.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * What the two tokenizer kinds share: the vocabulary, cutting special tokens out first, BOS, and turning
 * tokens back into bytes. Subclasses tokenize plain-text fragments and spell normal tokens.
 */
abstract sealed class BaseTokenizer implements Tokenizer permits SentencePieceTokenizer, BytePairTokenizer {
    private static final byte[] NOTHING = new byte[0];

    final Vocabulary vocab;
    private final SpecialTokenSplitter splitter;

    BaseTokenizer(Vocabulary vocab) {
        this.vocab = vocab;
        this.splitter = new SpecialTokenSplitter(vocab);
    }

    /**
     * Appends the tokens of a fragment of plain text. {@code afterSpecial}: the fragment starts the text or
     * follows a special token.
     */
    abstract void encodeText(String text, boolean afterSpecial, IntList out);

    /** The bytes a normal token stands for. */
    abstract byte[] normalPiece(String text);

    /** Whether decoding takes one leading space off the text (the space SentencePiece encoding put there). */
    abstract boolean stripsLeadingSpace();

    @Override
    public final int[] encode(String text, boolean addBos, boolean parseSpecial) {
        IntList out = new IntList();
        if (addBos) {
            if (vocab.bos < 0) throw new IllegalStateException("BOS requested, but the vocabulary has no BOS token");
            out.add(vocab.bos);
        }
        boolean afterSpecial = true;
        for (SpecialTokenSplitter.Fragment f : splitter.split(text, parseSpecial)) {
            if (f.isToken()) {
                out.add(f.token());
            } else {
                encodeText(f.text(), afterSpecial, out);
            }
            afterSpecial = f.isToken();
        }
        return out.toArray();
    }

    @Override
    public final String decode(int[] tokens, boolean renderSpecial) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int first = tokens.length > 0 && tokens[0] == vocab.bos ? 1 : 0;
        for (int i = 0; i < tokens.length; i++) {
            byte[] p = piece(tokens[i], renderSpecial);
            int skip = i == first && stripsLeadingSpace() && p.length > 0 && p[0] == ' ' ? 1 : 0;
            out.write(p, skip, p.length - skip);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public final byte[] decodeBytes(int token) {
        return piece(token, false);
    }

    /** llama.cpp's token_to_piece. */
    private byte[] piece(int token, boolean renderSpecial) {
        String text = tokenText(token);
        return switch (vocab.type(token)) {
            case NORMAL -> normalPiece(text);
            case BYTE -> new byte[] {byteValue(text)};
            case USER_DEFINED -> text.getBytes(StandardCharsets.UTF_8);
            case CONTROL, UNKNOWN -> renderSpecial ? text.getBytes(StandardCharsets.UTF_8) : NOTHING;
            case UNUSED, UNDEFINED -> NOTHING;
        };
    }

    /** The byte of a byte token, spelled {@code <0xNN>}. */
    private static byte byteValue(String text) {
        if (text.length() != 6 || !text.startsWith("<0x") || text.charAt(5) != '>') {
            throw new IllegalArgumentException("byte token '" + text + "' is not of the form <0xNN>");
        }
        return (byte) Integer.parseInt(text, 3, 5, 16);
    }

    @Override
    public final int bos() {
        return vocab.bos;
    }

    @Override
    public final int eos() {
        return vocab.eos;
    }

    @Override
    public final int vocabSize() {
        return vocab.size();
    }

    @Override
    public final boolean addBosByDefault() {
        return vocab.addBos;
    }

    @Override
    public final boolean isEndOfGeneration(int token) {
        return token >= 0 && token < vocab.size() && vocab.endOfGeneration[token];
    }

    @Override
    public final boolean isSpecial(int token) {
        return vocab.type(token).isSpecial();
    }

    @Override
    public final String tokenText(int id) {
        if (id < 0 || id >= vocab.size()) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + vocab.size());
        return vocab.text(id);
    }
}
