package dev.vecllama.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConversationTest {
    @TempDir
    Path dir;

    static Conversation twoTurns() {
        Conversation c = new Conversation("Be brief.");
        c.add(Message.user("Hi \"there\"\nsecond line"));
        c.add(Message.assistant("Hello ünïcødé 𝄞"));
        c.add(Message.user("Bye"));
        c.add(Message.assistant("Bye!"));
        return c;
    }

    @Test
    void savesAndLoadsEveryMessageExactly() throws IOException {
        Path file = dir.resolve("chat.json");
        twoTurns().save(file);
        twoTurns().save(file); // over an existing file
        assertEquals(twoTurns().messages(), Conversation.load(file).messages());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList(), "no temporary file is left behind");
        }
        assertTrue(Files.readString(file).contains("\"role\" : \"assistant\""));
    }

    @Test
    void badFilesAreOneLineErrors() throws IOException {
        Path file = dir.resolve("bad.json");
        for (String text : List.of("{", "[]", "{\"messages\": [{\"role\": \"robot\", \"content\": \"x\"}]}",
                "{\"messages\": [{\"role\": \"user\"}]}", "{}")) {
            Files.writeString(file, text);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Conversation.load(file), text);
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
        assertThrows(java.io.UncheckedIOException.class, () -> Conversation.load(dir.resolve("missing.json")));
    }

    @Test
    void dropsTheOldestExchangeButKeepsTheSystemMessageAndTheLastQuestion() {
        Conversation c = twoTurns();
        c.add(Message.user("Last"));
        assertTrue(c.dropOldestTurn());
        assertEquals(List.of(Message.system("Be brief."), Message.user("Bye"), Message.assistant("Bye!"), Message.user("Last")),
                c.messages());
        assertTrue(c.dropOldestTurn());
        assertFalse(c.dropOldestTurn());
        assertEquals(List.of(Message.system("Be brief."), Message.user("Last")), c.messages());
        c.reset();
        assertEquals(List.of(Message.system("Be brief.")), c.messages());
    }
}
