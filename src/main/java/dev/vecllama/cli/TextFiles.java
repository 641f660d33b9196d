package dev.vecllama.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reading the -f text of perplexity and calibrate, with one-line errors. */
final class TextFiles {
    private TextFiles() {}

    /** {@code what} names the file's role in the messages ("the text file to evaluate"). */
    static String read(Path file, String what) {
        if (file == null) throw new IllegalArgumentException("missing -f TEXT (" + what + ")");
        if (Files.isDirectory(file)) throw new IllegalArgumentException(file + " is a directory, not a text file");
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no such text file: " + file);
        } catch (java.nio.charset.MalformedInputException e) {
            throw new IllegalArgumentException(file + " is not UTF-8 text");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
