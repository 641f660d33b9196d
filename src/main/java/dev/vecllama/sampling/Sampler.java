package dev.vecllama.sampling;

import java.util.SplittableRandom;

/**
 * Chooses each next token from the model's logits through llama.cpp's default chain: repetition
 * penalty, top-k, top-p, min-p, temperature, then a seeded draw. The filters judge probabilities at
 * temperature 1, as llama.cpp's do, so temperature only reshapes what they let through. Not thread-safe:
 * one sampler per generation.
 */
public final class Sampler {
    private final SamplerSettings settings;
    private final int vocabSize;
    private final RepetitionPenalty penalty;
    private final Candidates candidates;
    private final SplittableRandom random;

    public Sampler(SamplerSettings settings, int vocabSize) {
        if (vocabSize <= 0) throw new IllegalArgumentException("vocabulary size must be positive, got " + vocabSize);
        this.settings = settings;
        this.vocabSize = vocabSize;
        this.penalty = new RepetitionPenalty(settings.repetitionPenalty(), settings.repeatLastN(), vocabSize);
        this.candidates = new Candidates(vocabSize);
        this.random = new SplittableRandom(settings.seed());
    }

    public SamplerSettings settings() {
        return settings;
    }

    /** The next token. Penalties are applied to {@code logits} in place. */
    public int sample(float[] logits) {
        requireUsable(logits);
        penalty.apply(logits);
        if (settings.temperature() == 0) {
            candidates.keepTop(logits, 1);
            return candidates.id(0);
        }
        candidates.keepTop(logits, settings.topK());
        candidates.keepTopP(settings.topP());
        candidates.keepMinP(settings.minP());
        return candidates.draw(settings.temperature(), random);
    }

    /** Records a token of the context (prompt or generated) for the repetition penalty. */
    public void accept(int token) {
        penalty.accept(token);
    }

    /** -infinity masks a token; NaN or +infinity means the forward pass went wrong, and sampling would hide it. */
    private void requireUsable(float[] logits) {
        if (logits.length != vocabSize) {
            throw new IllegalArgumentException(logits.length + " logits for a vocabulary of " + vocabSize);
        }
        boolean anyFinite = false;
        for (int i = 0; i < logits.length; i++) {
            float x = logits[i];
            if (Float.isNaN(x) || x == Float.POSITIVE_INFINITY) {
                throw new IllegalArgumentException("logit of token " + i + " is " + x);
            }
            anyFinite |= x != Float.NEGATIVE_INFINITY;
        }
        if (!anyFinite) throw new IllegalArgumentException("every logit is -Infinity: no token can be chosen");
    }
}
