package dev.vecllama.cli;

/** Defaults and checks shared by the verbs' options, so every verb reads -t, -c and -b the same way. */
final class Options {
    private Options() {}

    /** Default context: the model's own, capped (a 128k-token cache would not fit a laptop). */
    static final int DEFAULT_MAX_CONTEXT = 4096;

    static int threads(Integer requested) {
        if (requested == null) return Runtime.getRuntime().availableProcessors();
        if (requested < 1) throw new IllegalArgumentException("-t/--threads must be at least 1, got " + requested);
        return requested;
    }

    static int contextSize(Integer requested, int modelContext) {
        if (requested == null || requested == 0) return Math.min(modelContext, DEFAULT_MAX_CONTEXT);
        if (requested < 0) throw new IllegalArgumentException("-c/--ctx-size must be positive, got " + requested);
        return requested;
    }

    /** -n: -1 runs until the context is full (or the answer ends); any other negative is a typo, not a wish. */
    static int maxTokens(int requested) {
        if (requested < -1) throw new IllegalArgumentException("-n/--n-predict must be -1 (no limit) or at least 0, got " + requested);
        return requested;
    }

    /** Batch buffers need be no larger than the prompt. */
    static int batch(int requested, int promptTokens) {
        if (requested < 1) throw new IllegalArgumentException("-b/--batch-size must be at least 1, got " + requested);
        return Math.max(1, Math.min(requested, promptTokens));
    }
}
