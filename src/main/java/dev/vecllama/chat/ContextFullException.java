package dev.vecllama.chat;

/** The conversation no longer fits the context. */
public final class ContextFullException extends RuntimeException {
    public ContextFullException(int promptTokens, int contextSize, boolean shifting) {
        super("context full: the conversation is " + promptTokens + " tokens and the context holds " + contextSize
                + (shifting ? "; even the last message alone does not leave room for an answer, raise -c/--ctx-size"
                        : "; /reset to start over, or run with --ctx-shift to drop the oldest turns, or raise -c/--ctx-size"));
    }
}
