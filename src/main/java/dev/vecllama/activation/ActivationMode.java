package dev.vecllama.activation;

import java.util.Arrays;
import java.util.Locale;

/**
 * How a linear layer's input meets an int8-activation weight format (Q8_0, Q4_0, the k-quants,
 * ternary): quantized per block at run time, quantized with one calibrated scale per tensor input,
 * or not quantized at all.
 */
public enum ActivationMode {
    /** Each block's own absmax sets its scale, computed per token (llama.cpp's behaviour). */
    DYNAMIC,
    /** One calibrated scale per tensor input for every block: no absmax scan, values beyond it clip. */
    STATIC,
    /** Float activations against dequantized weight rows: the reference the int8 modes are measured against. */
    F32;

    /** The name users type (--act-quant). */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static ActivationMode parse(String name) {
        for (ActivationMode m : values()) if (m.id().equalsIgnoreCase(name)) return m;
        throw new IllegalArgumentException("unknown activation mode '" + name + "' (choose from "
                + String.join(", ", Arrays.stream(values()).map(ActivationMode::id).toList()) + ")");
    }
}
