package dev.vecllama.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The chat REPL as a user runs it, with standard input a pipe: {@code vecllama chat MODEL < script}. */
class ChatReplTest {
    @TempDir
    Path dir;

    @Test
    void aScriptedConversationThroughStandardInput() throws Exception {
        Path saved = dir.resolve("chat.json"), savedAgain = dir.resolve("again.json");
        String script = String.join("\n",
                "What is a list?",
                "\"\"\"",
                "Tell me",
                "about tuples",
                "\"\"\"",
                "/stats",
                "/save " + saved,
                "/reset",
                "/stats",
                "/load " + saved,
                "/nonsense",
                "And sets?\\",
                "please",
                "/save " + savedAgain,
                "/help") + "\n";
        Result r = run(script, "chat", TestModel.PATH.toString(), "--chat-template", "chatml", "--system", "Be brief.",
                "--temp", "0", "-n", "8", "-t", "2");
        assertEquals(0, r.exit, r.err);
        assertTrue(r.err.contains("chat template: chatml"), r.err);
        assertTrue(r.out.contains("[saved 5 messages to " + saved + "]"), r.out);
        assertTrue(r.out.contains("[conversation reset]\ncontext: "), r.out);
        assertTrue(r.out.contains("[loaded 5 messages from " + saved + "]"), r.out);
        assertTrue(r.out.contains("unknown command /nonsense (/help lists them)"), r.out);
        assertTrue(r.out.contains("/save FILE"), r.out);

        // The second answer found the first turn in the cache.
        Matcher stats = Pattern.compile("context: (\\d+) of 256 tokens, 5 messages \\| last answer: prompt (\\d+) tokens \\((\\d+) from the cache\\)")
                .matcher(r.out);
        assertTrue(stats.find(), r.out);
        assertTrue(Integer.parseInt(stats.group(3)) > 10, stats.group());

        Conversation first = Conversation.load(saved), last = Conversation.load(savedAgain);
        assertEquals(List.of(Message.system("Be brief."), Message.user("What is a list?")), first.messages().subList(0, 2));
        assertEquals(Message.user("Tell me\nabout tuples"), first.messages().get(3));
        assertEquals(first.messages(), last.messages().subList(0, 5));
        assertEquals(Message.user("And sets?\nplease"), last.messages().get(5));
        assertEquals(Message.ASSISTANT, last.messages().get(6).role());
        // Each answer was streamed to standard output as it is saved.
        for (Message m : last.messages()) if (m.role().equals(Message.ASSISTANT)) assertTrue(r.out.contains(m.content()), m.content());
    }

    @Test
    void aModelWithoutTemplateSaysSoInOneLineAndContinuesText() throws Exception {
        Result r = run("The list type\n", "chat", TestModel.PATH.toString(), "--temp", "0", "-n", "6", "-t", "2");
        assertEquals(0, r.exit, r.err);
        assertEquals(1, r.err.lines().filter(l -> l.contains("plain completion")).count(), r.err);
        assertTrue(r.out.startsWith(" "), "a continuation of the text: " + r.out);
    }

    @Test
    void anUnknownTemplateIsAOneLineError() throws Exception {
        Result r = run("", "chat", TestModel.PATH.toString(), "--chat-template", "nosuch");
        assertEquals(1, r.exit);
        assertEquals("error: --chat-template 'nosuch' is neither a file nor a built-in template "
                + "(llama2, llama3, mistral, chatml, qwen2, zephyr, phi3, gemma, smollm)", r.err.strip());
    }

    record Result(int exit, String out, String err) {}

    /** Runs vecllama's main class in a new JVM with this test's class path, feeding {@code stdin}. */
    static Result run(String stdin, String... args) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new java.util.ArrayList<>(List.of(java, "--add-modules=jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "dev.vecllama.cli.Main"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).start();
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        try (OutputStream in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the REPL did not end at the end of its input");
        }
        String errText = new String(err.get(), StandardCharsets.UTF_8).lines()
                .filter(l -> !l.startsWith("WARNING: Using incubator modules")).reduce("", (a, b) -> a + b + "\n");
        return new Result(p.exitValue(), new String(out.get(), StandardCharsets.UTF_8), errText);
    }

    private static byte[] readAll(java.io.InputStream in) {
        try (in; ByteArrayOutputStream b = new ByteArrayOutputStream()) {
            in.transferTo(b);
            return b.toByteArray();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
