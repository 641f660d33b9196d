package dev.vecllama.sampling;

/**
 * llama.cpp's repetition penalty over the last N accepted tokens: a positive logit is divided by the
 * penalty, any other multiplied by it, so a repeated token always becomes less likely. A token that
 * occurs several times in the window is penalized once.
 */
final class RepetitionPenalty {
    private final float penalty;
    private final int[] recent; // ring buffer of the window
    private final boolean[] done; // per-vocabulary scratch that keeps sample() allocation-free
    private int filled;
    private int next;

    RepetitionPenalty(float penalty, int window, int vocabSize) {
        this.penalty = penalty;
        this.recent = new int[window];
        this.done = new boolean[vocabSize];
    }

    void accept(int token) {
        if (token < 0 || token >= done.length) {
            throw new IllegalArgumentException("token " + token + " is outside the vocabulary of " + done.length);
        }
        if (recent.length == 0) return;
        recent[next] = token;
        next = (next + 1) % recent.length;
        filled = Math.min(filled + 1, recent.length);
    }

    void apply(float[] logits) {
        if (penalty == 1f) return;
        for (int i = 0; i < filled; i++) {
            int t = recent[i];
            if (done[t]) continue;
            done[t] = true;
            logits[t] = logits[t] > 0 ? logits[t] / penalty : logits[t] * penalty;
        }
        for (int i = 0; i < filled; i++) done[recent[i]] = false;
    }
}
