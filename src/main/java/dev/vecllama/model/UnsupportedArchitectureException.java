package dev.vecllama.model;

/** A model whose architecture we recognise but do not run; the message says which. */
public final class UnsupportedArchitectureException extends RuntimeException {
    public UnsupportedArchitectureException(String message) {
        super(message);
    }
}
