package dev.vecllama.chat;

import java.util.Objects;

/** One turn of a conversation: a role ({@code system}, {@code user}, {@code assistant}) and its text. */
public record Message(String role, String content) {
    public static final String SYSTEM = "system", USER = "user", ASSISTANT = "assistant";

    public Message {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
    }

    public static Message system(String content) {
        return new Message(SYSTEM, content);
    }

    public static Message user(String content) {
        return new Message(USER, content);
    }

    public static Message assistant(String content) {
        return new Message(ASSISTANT, content);
    }
}
