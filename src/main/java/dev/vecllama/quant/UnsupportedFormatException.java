package dev.vecllama.quant;

/** A tensor type we read the header of but cannot compute with; the message names the type. */
public final class UnsupportedFormatException extends RuntimeException {
    public UnsupportedFormatException(String message) {
        super(message);
    }
}
