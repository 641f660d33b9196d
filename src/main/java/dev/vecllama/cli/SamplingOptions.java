package dev.vecllama.cli;

import dev.vecllama.sampling.SamplerSettings;
import picocli.CommandLine.Option;

/** The sampling flags, as llama.cpp names them; unset flags keep llama.cpp's defaults. */
final class SamplingOptions {
    @Option(names = "--temp", paramLabel = "T", description = "temperature; 0 = greedy (default 0.8)")
    Float temperature;

    @Option(names = "--top-k", paramLabel = "K", description = "keep the K most likely tokens; 0 = off (default 40)")
    Integer topK;

    @Option(names = "--top-p", paramLabel = "P", description = "nucleus sampling; 1 = off (default 0.95)")
    Float topP;

    @Option(names = "--min-p", paramLabel = "P", description = "drop tokens below P x the top probability; 0 = off (default 0.05)")
    Float minP;

    @Option(names = "--repeat-penalty", paramLabel = "R", description = "penalize recent tokens; 1 = off (default 1.0)")
    Float repeatPenalty;

    @Option(names = "--repeat-last-n", paramLabel = "N", description = "how many recent tokens the penalty sees (default 64)")
    Integer repeatLastN;

    @Option(names = {"-s", "--seed"}, paramLabel = "SEED", description = "random seed, for repeatable runs (default: random)")
    Long seed;

    SamplerSettings settings() {
        SamplerSettings.Builder b = SamplerSettings.builder();
        if (temperature != null) b.temperature(temperature);
        if (topK != null) b.topK(topK);
        if (topP != null) b.topP(topP);
        if (minP != null) b.minP(minP);
        if (repeatPenalty != null) b.repetitionPenalty(repeatPenalty);
        if (repeatLastN != null) b.repeatLastN(repeatLastN);
        if (seed != null) b.seed(seed);
        return b.build();
    }
}
