package dev.vecllama.quant;

import dev.vecllama.gguf.GGMLType;

/** Maps GGML types to the formats we implement. */
final class Formats {
    private Formats() {}

    static WeightFormat of(GGMLType t) {
        return switch (t) {
            case F32 -> F32.INSTANCE;
            case F16 -> F16.INSTANCE;
            case BF16 -> BF16.INSTANCE;
            case Q8_0 -> Q8_0.INSTANCE;
            case Q4_0 -> Q4_0.INSTANCE;
            case Q4_K -> Q4_K.INSTANCE;
            case Q6_K -> Q6_K.INSTANCE;
            case TQ1_0 -> TQ1_0.INSTANCE;
            case TQ2_0 -> TQ2_0.INSTANCE;
            case NF4 -> NF4.INSTANCE;
            case NF4_DQ -> NF4.DOUBLE_QUANT;
            default -> throw new UnsupportedFormatException("tensor type " + t + " is not supported");
        };
    }
}
