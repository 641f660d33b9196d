package dev.vecllama.gguf;

/** A GGUF file that cannot be read as it claims to be; the message is one line naming the problem. */
public final class GGUFFormatException extends RuntimeException {
    private static final int MAX_MESSAGE = 400;

    public GGUFFormatException(String message) {
        super(oneLine(message));
    }

    /**
     * Names quoted from a hostile file may hold line breaks or escape codes (shown, not obeyed) and
     * may be megabytes long: the middle is cut, keeping the start that says where and the end that says what.
     */
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
        if (b.length() <= MAX_MESSAGE) return b.toString();
        int keep = MAX_MESSAGE / 2;
        return b.substring(0, keep) + " …[" + (b.length() - 2 * keep) + " chars cut]… " + b.substring(b.length() - keep);
    }
}
