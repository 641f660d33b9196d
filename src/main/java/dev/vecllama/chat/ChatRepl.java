package dev.vecllama.chat;

import dev.vecllama.model.Generator;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The interactive chat: reads the user's messages (a line; lines ending in {@code \} or a block
 * between {@code """} lines for several), streams the answers, and runs the slash commands.
 */
public final class ChatRepl {
    static final String HELP = """
            /help          this list
            /reset         forget the conversation (the system message stays)
            /save FILE     save the conversation as JSON
            /load FILE     continue a saved conversation
            /stats         context use and the last answer's speed
            /quit          leave (or Ctrl-D); Ctrl-C stops an answer
            end a line with \\ to go on to the next, or put several lines between two \""" lines
            """;
    private static final String BLOCK = "\"\"\"";

    private final ChatSession session;
    private final ReplConsole console;
    private final AtomicBoolean cancel;

    /** @param cancel set (by Ctrl-C) to stop the answer being written; cleared before each answer */
    public ChatRepl(ChatSession session, ReplConsole console, AtomicBoolean cancel) {
        this.session = session;
        this.console = console;
        this.cancel = cancel;
    }

    /** Runs until the input ends or /quit. */
    public void run() {
        if (console.interactive()) console.print("/help for commands, Ctrl-D to leave\n");
        for (String input; (input = readMessage()) != null; ) {
            if (input.isBlank()) continue;
            if (input.startsWith("/")) {
                if (!command(input.strip())) return;
            } else {
                answer(input);
            }
        }
    }

    /** One message, however many lines it spans; null at the end of input. */
    private String readMessage() {
        String line = console.readLine("> ");
        if (line == null) return null;
        if (line.startsWith(BLOCK)) {
            StringBuilder b = new StringBuilder(line.substring(BLOCK.length()));
            while (!endsBlock(b)) {
                String next = console.readLine("... ");
                if (next == null) break;
                if (!b.isEmpty()) b.append('\n');
                b.append(next);
            }
            if (endsBlock(b)) b.setLength(b.length() - BLOCK.length());
            return b.toString().strip();
        }
        StringBuilder b = new StringBuilder(line);
        while (b.length() > 0 && b.charAt(b.length() - 1) == '\\') {
            b.setCharAt(b.length() - 1, '\n');
            String next = console.readLine("... ");
            if (next == null) break;
            b.append(next);
        }
        return b.toString().strip();
    }

    private static boolean endsBlock(StringBuilder b) {
        return b.length() >= BLOCK.length() && b.lastIndexOf(BLOCK) == b.length() - BLOCK.length();
    }

    private void answer(String input) {
        cancel.set(false);
        try {
            ChatSession.Reply r = session.reply(input, console::print, cancel::get);
            console.print("\n");
            switch (r.finish()) {
                case CANCELLED -> console.print("[stopped]\n");
                case LENGTH -> console.print("[answer cut at " + r.stats().generatedTokens() + " tokens (-n)]\n");
                case CONTEXT_FULL -> console.print("[context full at " + session.contextSize()
                        + " tokens: /reset to start over, or --ctx-shift to drop the oldest turns]\n");
                case END -> { }
            }
            if (r.droppedTurns() > 0) console.print("[dropped the " + r.droppedTurns() + " oldest turns to fit the context]\n");
        } catch (ContextFullException | ChatTemplateException e) {
            console.print("error: " + e.getMessage() + "\n");
        }
    }

    /** Runs a slash command; false to leave. */
    private boolean command(String line) {
        String[] parts = line.split("\\s+", 2);
        String arg = parts.length > 1 ? parts[1].strip() : "";
        try {
            switch (parts[0]) {
                case "/quit", "/exit", "/bye" -> {
                    return false;
                }
                case "/help" -> console.print(HELP);
                case "/reset" -> {
                    session.conversation().reset();
                    console.print("[conversation reset]\n");
                }
                case "/save" -> {
                    session.conversation().save(file(arg));
                    console.print("[saved " + session.conversation().messages().size() + " messages to " + arg + "]\n");
                }
                case "/load" -> {
                    session.conversation().replaceWith(Conversation.load(file(arg)));
                    console.print("[loaded " + session.conversation().messages().size() + " messages from " + arg + "]\n");
                }
                case "/stats" -> console.print(stats() + "\n");
                default -> console.print("unknown command " + parts[0] + " (/help lists them)\n");
            }
        } catch (IllegalArgumentException | UncheckedIOException e) {
            console.print("error: " + e.getMessage() + "\n");
        }
        return true;
    }

    private static Path file(String arg) {
        if (arg.isEmpty()) throw new IllegalArgumentException("give a file name");
        return Path.of(arg);
    }

    private String stats() {
        String context = "context: " + session.contextUsed() + " of " + session.contextSize() + " tokens, "
                + session.conversation().messages().size() + " messages";
        Generator.Stats s = session.lastStats();
        if (s == null) return context;
        return String.format("%s | last answer: prompt %d tokens (%d from the cache) at %.1f tok/s, %d tokens at %.1f tok/s",
                context, s.promptTokens(), s.reusedTokens(), s.promptTokensPerSecond(), s.generatedTokens(), s.generateTokensPerSecond());
    }
}
