package dev.vecllama.chat;

import dev.vecllama.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;

/**
 * Turns generated tokens into the text a user sees, as they arrive: raw token bytes through a UTF-8
 * decoder (characters split across tokens come out whole), control tokens left out unless asked
 * for, and stop strings cut off. Each visible piece goes to the consumer; {@link #text()} is the whole.
 */
public final class TextStream {
    private final Tokenizer tokenizer;
    private final boolean showSpecial;
    private final Utf8Decoder utf8 = new Utf8Decoder();
    private final StopStrings stops;
    private final Consumer<String> out;
    private final StringBuilder text = new StringBuilder();

    /** @param showSpecial print control tokens as their text (e.g. {@code <|im_end|>}) instead of nothing */
    public TextStream(Tokenizer tokenizer, boolean showSpecial, List<String> stopStrings, Consumer<String> out) {
        this.tokenizer = tokenizer;
        this.showSpecial = showSpecial;
        this.stops = new StopStrings(stopStrings);
        this.out = out;
    }

    /** Takes the next token; false once a stop string has appeared, when generation should end. */
    public boolean accept(int token) {
        byte[] bytes = showSpecial && tokenizer.isSpecial(token)
                ? tokenizer.tokenText(token).getBytes(StandardCharsets.UTF_8)
                : tokenizer.decodeBytes(token);
        emit(stops.push(utf8.decode(bytes)));
        return !stops.stopped();
    }

    /** Ends the text: shows what was held back (an unfinished character as U+FFFD). */
    public void finish() {
        emit(stops.push(utf8.finish()));
        if (!stops.stopped()) emit(stops.flush());
    }

    /** Whether the text ended at a stop string. */
    public boolean stopped() {
        return stops.stopped();
    }

    /** Everything shown so far. */
    public String text() {
        return text.toString();
    }

    private void emit(String piece) {
        if (piece.isEmpty()) return;
        text.append(piece);
        out.accept(piece);
    }
}
