package dev.vecllama.testutil;

import dev.vecllama.model.Llama;
import dev.vecllama.model.Model;
import dev.vecllama.quant.NF4;
import java.nio.file.Path;

/** A model's logits at every position of a token sequence, evaluated in one batch. */
public final class Logits {
    private Logits() {}

    /** {@code format}: the NF4 layout to convert to on load, or null to run the file as stored. */
    public static float[][] teacherForced(Path model, NF4 format, int[] tokens) {
        try (Model m = Model.load(model, 2, format)) {
            Llama.State s = m.llama.newState(tokens.length, tokens.length, true);
            m.llama.forward(s, tokens, 0, tokens.length, 0);
            float[][] out = new float[tokens.length][];
            for (int p = 0; p < tokens.length; p++) out[p] = s.logits[p].clone();
            return out;
        }
    }
}
