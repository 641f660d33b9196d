package dev.vecllama.eval;

/**
 * How llama.cpp's llama-perplexity cuts a token stream: the whole text is tokenized once (with BOS
 * if the model wants it), split into {@code tokens / nCtx} chunks of {@code nCtx} tokens (the tail
 * is dropped), each chunk is evaluated from an empty cache with its first token replaced by BOS, and
 * only positions {@code nCtx/2 .. nCtx-2} are scored (each predicts the token after it), so every
 * scored prediction sees at least half a context.
 */
public record ChunkPlan(int[] tokens, int nCtx, int chunks, int bos) {

    /**
     * @param maxChunks at most this many chunks (≤ 0: all)
     * @param bos       the token that replaces each chunk's first one, or -1 to keep it
     */
    public static ChunkPlan of(int[] tokens, int nCtx, int maxChunks, int bos) {
        if (nCtx < 4) throw new IllegalArgumentException("-c/--ctx-size must be at least 4 for perplexity, got " + nCtx);
        // Same minimum as llama.cpp: with fewer tokens the estimate would rest on a single chunk.
        if (tokens.length < 2 * nCtx) {
            throw new IllegalArgumentException("the text has " + tokens.length + " tokens; perplexity with -c " + nCtx
                    + " needs at least " + 2 * nCtx);
        }
        int chunks = tokens.length / nCtx;
        if (maxChunks > 0) chunks = Math.min(chunks, maxChunks);
        return new ChunkPlan(tokens, nCtx, chunks, bos);
    }

    /** The first scored position of a chunk. */
    public int first() {
        return nCtx / 2;
    }

    /** Scored positions per chunk. */
    public int scoredPerChunk() {
        return nCtx - 1 - first();
    }

    public long scoredTotal() {
        return (long) chunks * scoredPerChunk();
    }

    /** The tokens fed to the model for chunk {@code c}: its slice of the text, BOS first. */
    public int[] input(int c) {
        int[] in = java.util.Arrays.copyOfRange(tokens, c * nCtx, (c + 1) * nCtx);
        if (bos >= 0) in[0] = bos;
        return in;
    }

    /** The token that position {@code pos} of chunk {@code c} should predict (the original text, never BOS). */
    public int target(int c, int pos) {
        return tokens[c * nCtx + pos + 1];
    }
}
