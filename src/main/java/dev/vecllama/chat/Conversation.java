package dev.vecllama.chat;

import dev.vecllama.io.AtomicFile;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;

import java.nio.file.Path;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;

/**
 * The messages of a chat, with an optional system message first. Saved as JSON
 * ({@code {"messages": [{"role": ..., "content": ...}, ...]}}, the shape of an OpenAI request).
 */
public final class Conversation {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final Set<String> ROLES = Set.of(Message.SYSTEM, Message.USER, Message.ASSISTANT);

    private final List<Message> messages = new ArrayList<>();

    /** @param system the system message, or null for none */
    public Conversation(String system) {
        if (system != null) messages.add(Message.system(system));
    }

    public List<Message> messages() {
        return Collections.unmodifiableList(messages);
    }

    public void add(Message m) {
        messages.add(m);
    }

    public void removeLast() {
        messages.removeLast();
    }

    /** Forgets every turn; the system message stays. */
    public void reset() {
        messages.removeIf(m -> !m.role().equals(Message.SYSTEM));
    }

    /** Replaces the messages with another conversation's. */
    public void replaceWith(Conversation other) {
        messages.clear();
        messages.addAll(other.messages);
    }

    /**
     * Drops the oldest exchange (a user message and the answers up to the next user message), keeping
     * the system message and the last user message; false if there is nothing left to drop.
     */
    public boolean dropOldestTurn() {
        int first = messages.isEmpty() || !messages.get(0).role().equals(Message.SYSTEM) ? 0 : 1;
        int next = first + 1;
        while (next < messages.size() && !messages.get(next).role().equals(Message.USER)) next++;
        if (next >= messages.size()) return false;
        messages.subList(first, next).clear();
        return true;
    }

    private record Saved(List<Message> messages) {}

    /** Writes the conversation as JSON, to a temporary file renamed over {@code file}, so a crash never leaves half a file. */
    public void save(Path file) {
        Path target = file.toAbsolutePath();
        try {
            Path tmp = AtomicFile.temporaryBeside(target);
            try {
                JSON.writeValue(tmp.toFile(), new Saved(messages));
                AtomicFile.commit(tmp, target);
            } finally {
                AtomicFile.discard(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the conversation to " + file + ": " + e.getMessage(), e);
        }
    }

    /** Reads a conversation {@link #save} wrote (or any JSON of that shape). */
    public static Conversation load(Path file) {
        Saved saved;
        try {
            saved = JSON.readValue(file.toFile(), Saved.class);
        } catch (JacksonException e) {
            throw new IllegalArgumentException(file + " is not a saved conversation: "
                    + e.getOriginalMessage().lines().findFirst().orElse("bad JSON"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (saved == null || saved.messages() == null) throw new IllegalArgumentException(file + " has no \"messages\" list");
        Conversation c = new Conversation(null);
        for (Message m : saved.messages()) {
            if (m == null || !ROLES.contains(m.role())) {
                throw new IllegalArgumentException(file + ": every message needs a role of system, user or assistant");
            }
            c.add(m);
        }
        return c;
    }
}
