package dev.vecllama.cli;

import dev.vecllama.activation.ActivationMode;
import dev.vecllama.activation.Calibrator;
import dev.vecllama.model.ActivationSettings;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** --act-quant and its scales, shared by the verbs that measure or generate (run, perplexity, bench). */
final class ActivationOptions {
    @Option(names = "--act-quant", paramLabel = "MODE",
            description = "how the int8-activation formats (Q8_0, Q4_0, k-quants, ternary) quantize their inputs: "
                    + "dynamic (per-block absmax per token, the default), static (one calibrated scale per input, needs --act-scales), "
                    + "f32 (float activations against dequantized weights: the reference)")
    String mode = "dynamic";

    @Option(names = "--act-scales", paramLabel = "FILE", description = "the scales written by calibrate, for --act-quant static")
    Path scales;

    @Option(names = "--act-scale-method", paramLabel = "METHOD",
            description = "which of the file's calibration methods to use: absmax, p99.9, p99.99, mse, entropy (default: the one chosen at calibration)")
    String method;

    ActivationSettings settings() {
        return new ActivationSettings(ActivationMode.parse(mode), scales, method == null ? null : Calibrator.Method.parse(method));
    }
}
