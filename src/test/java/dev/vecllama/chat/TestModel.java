package dev.vecllama.chat;

import dev.vecllama.model.Model;
import java.nio.file.Path;

/**
 * The small model the chat and server tests talk to. Q8_0, whose batched and one-token forward passes
 * agree exactly, so an answer continued from the KV cache can be compared with one evaluated afresh.
 */
public final class TestModel {
    private TestModel() {}

    public static final Path PATH = Path.of("../shared/models/vl-tiny-f-Q8_0.gguf");

    public static Model load() {
        return Model.load(PATH, 2);
    }
}
