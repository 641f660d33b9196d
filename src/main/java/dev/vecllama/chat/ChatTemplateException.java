package dev.vecllama.chat;

/** A chat template that does not parse, fails while rendering, or refuses a conversation (raise_exception). */
public final class ChatTemplateException extends RuntimeException {
    public ChatTemplateException(String message) {
        super(message);
    }
}
