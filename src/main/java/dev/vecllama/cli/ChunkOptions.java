package dev.vecllama.cli;

import dev.vecllama.model.Model;
import picocli.CommandLine.Option;

/** How perplexity and calibrate cut a text into chunks and run them: the same flags, read the same way. */
final class ChunkOptions {
    @Option(names = {"-c", "--ctx-size"}, description = "tokens per chunk (default: 512, at most the model's context)")
    Integer contextSize;

    @Option(names = {"-b", "--batch-size"}, description = "tokens per forward batch (default: ${DEFAULT-VALUE}, at most -c)")
    int batch = 512;

    @Option(names = {"-t", "--threads"}, description = "threads (default: all cores)")
    Integer threads;

    @Option(names = "--chunks", description = "use at most this many chunks (default: all)")
    int maxChunks = -1;

    int threads() {
        return Options.threads(threads);
    }

    /** -c, or llama-perplexity's default of 512 capped by the model's context. */
    int contextSize(Model m) {
        return contextSize != null ? Options.contextSize(contextSize, 0) : Math.min(512, m.config.contextLength());
    }
}
