package dev.vecllama.quant;

import dev.vecllama.gguf.GGMLType;

/** Maps GGML types to the formats we implement. */
final class Formats {
    private Formats() {}

    static WeightFormat of(GGMLType t) {
        return switch (t) {
            case F32 -> F32.INSTANCE;
            case TQ1_0, TQ2_0 -> throw new UnsupportedFormatException(
                    "tensor type " + t + " (BitNet ternary) is not supported yet");
            default -> throw new UnsupportedFormatException("tensor type " + t + " is not supported");
        };
    }
}
