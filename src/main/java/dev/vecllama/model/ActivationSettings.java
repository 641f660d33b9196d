package dev.vecllama.model;

import dev.vecllama.activation.ActivationMode;
import dev.vecllama.activation.Calibrator.Method;
import java.nio.file.Path;

/**
 * How a model's linear inputs are quantized, fixed at load: the mode, and for STATIC the sidecar
 * written by calibrate and which of its methods to use (null: the one chosen when calibrating).
 */
public record ActivationSettings(ActivationMode mode, Path scales, Method method) {
    public static final ActivationSettings DYNAMIC = new ActivationSettings(ActivationMode.DYNAMIC, null, null);

    public ActivationSettings {
        if (mode == ActivationMode.STATIC && scales == null) {
            throw new IllegalArgumentException("--act-quant static needs --act-scales FILE (written by calibrate)");
        }
        if (mode != ActivationMode.STATIC && (scales != null || method != null)) {
            throw new IllegalArgumentException("--act-scales and --act-scale-method are only used with --act-quant static");
        }
    }
}
