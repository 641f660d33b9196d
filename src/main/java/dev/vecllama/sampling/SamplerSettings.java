package dev.vecllama.sampling;

import java.util.concurrent.ThreadLocalRandom;

/**
 * How the next token is chosen. Each filter has a value that turns it off (top-k 0, top-p 1, min-p 0,
 * repetition penalty 1); temperature 0 means greedy. {@link #builder()} starts from llama.cpp's
 * defaults and a fresh random seed, so a run can be repeated by reading the seed back.
 */
public record SamplerSettings(float temperature, int topK, float topP, float minP,
                              float repetitionPenalty, int repeatLastN, long seed) {

    public SamplerSettings {
        require(Float.isFinite(temperature) && temperature >= 0,
                "temperature must be a finite number >= 0 (0 = greedy), got " + temperature);
        require(topK >= 0, "top-k must be >= 0 (0 = off), got " + topK);
        require(topP >= 0 && topP <= 1, "top-p must be in [0, 1] (1 = off), got " + topP);
        require(minP >= 0 && minP <= 1, "min-p must be in [0, 1] (0 = off), got " + minP);
        require(Float.isFinite(repetitionPenalty) && repetitionPenalty > 0,
                "repetition penalty must be a finite number > 0 (1 = off), got " + repetitionPenalty);
        require(repeatLastN >= 0, "repeat-last-n must be >= 0, got " + repeatLastN);
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Defaults are llama.cpp's common sampling parameters. */
    public static final class Builder {
        private float temperature = 0.8f;
        private int topK = 40;
        private float topP = 0.95f;
        private float minP = 0.05f;
        private float repetitionPenalty = 1.0f;
        private int repeatLastN = 64;
        private long seed = ThreadLocalRandom.current().nextLong();

        private Builder() {}

        public Builder temperature(float t) {
            temperature = t;
            return this;
        }

        public Builder topK(int k) {
            topK = k;
            return this;
        }

        public Builder topP(float p) {
            topP = p;
            return this;
        }

        public Builder minP(float p) {
            minP = p;
            return this;
        }

        public Builder repetitionPenalty(float penalty) {
            repetitionPenalty = penalty;
            return this;
        }

        public Builder repeatLastN(int n) {
            repeatLastN = n;
            return this;
        }

        public Builder seed(long s) {
            seed = s;
            return this;
        }

        public SamplerSettings build() {
            return new SamplerSettings(temperature, topK, topP, minP, repetitionPenalty, repeatLastN, seed);
        }
    }
}
