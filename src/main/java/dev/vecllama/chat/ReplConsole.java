package dev.vecllama.chat;

import java.io.BufferedReader;
import java.io.Console;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/** Where the REPL reads lines and writes answers: a terminal with line editing, or plain streams. */
public interface ReplConsole extends AutoCloseable {

    /** The next line without its line break; null at the end of input (Ctrl-D); "" after Ctrl-C on a line. */
    String readLine(String prompt);

    /** Writes text as it is (no line break added) and shows it at once. */
    void print(String text);

    /** Whether a person is typing: prompts and hints are shown only then. */
    boolean interactive();

    @Override
    void close();

    /**
     * The console for this process: JLine on a terminal (line editing, history in {@code historyFile},
     * Ctrl-C runs {@code onInterrupt} while an answer streams), plain UTF-8 streams otherwise.
     */
    static ReplConsole system(Path historyFile, Runnable onInterrupt) {
        Console c = System.console();
        if (c != null && c.isTerminal()) return new TerminalConsole(historyFile, onInterrupt);
        return new Streams(System.in, new FileOutputStream(FileDescriptor.out));
    }

    /** A JLine terminal. */
    final class TerminalConsole implements ReplConsole {
        private final Terminal terminal;
        private final LineReader reader;

        TerminalConsole(Path historyFile, Runnable onInterrupt) {
            try {
                terminal = TerminalBuilder.builder().system(true).build();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot open the terminal: " + e.getMessage(), e);
            }
            // JLine puts its own handler in place while a line is read (Ctrl-C clears the line) and ours back after.
            terminal.handle(Terminal.Signal.INT, signal -> onInterrupt.run());
            reader = LineReaderBuilder.builder().terminal(terminal)
                    .variable(LineReader.HISTORY_FILE, historyFile)
                    .build();
        }

        @Override
        public String readLine(String prompt) {
            try {
                return reader.readLine(prompt);
            } catch (UserInterruptException e) {
                return "";
            } catch (EndOfFileException e) {
                return null;
            }
        }

        @Override
        public void print(String text) {
            terminal.writer().print(text);
            terminal.writer().flush();
        }

        @Override
        public boolean interactive() {
            return true;
        }

        @Override
        public void close() {
            try {
                reader.getHistory().save();
                terminal.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Lines from a stream, text to a stream, both UTF-8: for pipes, files and tests. */
    final class Streams implements ReplConsole {
        private final BufferedReader in;
        private final PrintStream out;

        public Streams(InputStream in, OutputStream out) {
            this.in = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            this.out = new PrintStream(out, true, StandardCharsets.UTF_8);
        }

        @Override
        public String readLine(String prompt) {
            try {
                return in.readLine();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void print(String text) {
            out.print(text);
            out.flush();
        }

        @Override
        public boolean interactive() {
            return false;
        }

        @Override
        public void close() {
            out.flush();
        }
    }
}
