package dev.vecllama.chat;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Decodes UTF-8 that arrives in pieces, as token bytes do: a character split across two pieces comes
 * out once, whole, when its last byte arrives. Bytes that can never form a character become U+FFFD.
 */
public final class Utf8Decoder {
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    /** The start of a character whose remaining bytes have not arrived yet (at most 3 bytes). */
    private byte[] pending = new byte[0];

    /** The characters completed by {@code bytes}. */
    public String decode(byte[] bytes) {
        return decode(bytes, false);
    }

    /** What is left at the end of the text: an unfinished character becomes U+FFFD. */
    public String finish() {
        String rest = decode(new byte[0], true);
        decoder.reset();
        return rest;
    }

    private String decode(byte[] bytes, boolean end) {
        ByteBuffer in = ByteBuffer.allocate(pending.length + bytes.length).put(pending).put(bytes).flip();
        CharBuffer out = CharBuffer.allocate(in.remaining() + 2);
        decoder.decode(in, out, end);
        if (end) decoder.flush(out);
        pending = new byte[in.remaining()];
        in.get(pending);
        return out.flip().toString();
    }
}
