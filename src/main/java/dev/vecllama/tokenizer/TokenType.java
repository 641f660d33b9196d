package dev.vecllama.tokenizer;

/** The kinds of token in {@code tokenizer.ggml.token_type}; the GGUF value is the ordinal. */
enum TokenType {
    UNDEFINED, NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE;

    private static final TokenType[] BY_ID = values();

    /** Values outside the known range are UNDEFINED, as in llama.cpp. */
    static TokenType of(int id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : UNDEFINED;
    }

    /** Control and unknown tokens are not printed unless asked for, and only parsed from text when asked for. */
    boolean isSpecial() {
        return this == CONTROL || this == UNKNOWN;
    }
}
