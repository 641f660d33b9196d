package dev.vecllama.gguf;

/** A GGUF file that cannot be read as it claims to be; the message is one line naming the problem. */
public final class GGUFFormatException extends RuntimeException {
    public GGUFFormatException(String message) {
        super(oneLine(message));
    }

    /** Names quoted from a hostile file may hold line breaks or escape codes; show them, do not obey them. */
    private static String oneLine(String message) {
        StringBuilder b = new StringBuilder(message.length());
        message.codePoints().forEach(c -> {
            int type = Character.getType(c);
            if (Character.isISOControl(c) || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR) {
                b.append(String.format("\\u%04x", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.toString();
    }
}
