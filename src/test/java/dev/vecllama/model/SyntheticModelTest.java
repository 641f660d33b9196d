package dev.vecllama.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vecllama.gguf.GGMLType;
import dev.vecllama.gguf.GGUFFile;
import dev.vecllama.kernel.WeightMatrix;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** gen-model's files load as models of the asked shape and type, and give finite logits. */
class SyntheticModelTest {
    private static final Path VOCAB = Path.of("models/vl-tiny-f-Q4_K_M.gguf");

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"Q8_0", "Q4_K_M", "TQ2_0", "TQ1_0"})
    void aTinyModelOfEachTypeRuns(String type) {
        Path out = dir.resolve("tiny-" + type + ".gguf");
        try (GGUFFile vocab = GGUFFile.open(VOCAB)) {
            SyntheticModel.write(SyntheticModel.SHAPES.get("tiny"), type, vocab, out, msg -> {});
        }
        GGMLType main = SyntheticModel.TYPES.get(type);
        try (Model m = Model.load(out, 1)) {
            assertEquals(256, m.config.dim());
            assertEquals(main, m.file.tensor("blk.0.attn_q.weight").requireType());
            GGMLType edge = type.equals("Q8_0") ? GGMLType.Q8_0 : GGMLType.Q6_K;
            assertEquals(edge, m.file.tensor("output.weight").requireType());
            if (main == GGMLType.TQ2_0 || main == GGMLType.TQ1_0) everyWeightIsTernary(m.llama.weights.layers[0].wq);
            Llama.State s = m.llama.newState(8, 1, false);
            int[] tokens = {1, 450, 4996};
            for (int p = 0; p < tokens.length; p++) m.llama.forward(s, tokens, p, 1, p);
            float max = Float.NEGATIVE_INFINITY, min = Float.POSITIVE_INFINITY;
            for (float v : s.logits[0]) {
                assertTrue(Float.isFinite(v), "logits are finite");
                max = Math.max(max, v);
                min = Math.min(min, v);
            }
            assertTrue(max > min, "logits are not all equal");
        }
    }

    /** Random bytes would hold codes outside {0, 1, 2}; quantized rows are d·{−1, 0, 1}, all three present. */
    private static void everyWeightIsTernary(WeightMatrix q) {
        float d = Float.float16ToFloat(Float.floatToFloat16(0.02f));
        float[] row = new float[q.cols];
        java.util.Set<Float> seen = new java.util.HashSet<>();
        for (int r = 0; r < q.rows; r++) {
            q.dequantizeRow(r, row, 0);
            for (float v : row) {
                assertTrue(v == 0 || v == d || v == -d, "weight " + v + " in row " + r + " is not 0 or ±" + d);
                seen.add(v);
            }
        }
        assertEquals(3, seen.size(), "all of −d, 0, d occur");
    }

    @Test
    void anUnknownTypeNamesTheKnownOnes() {
        try (GGUFFile vocab = GGUFFile.open(VOCAB)) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> SyntheticModel.write(SyntheticModel.SHAPES.get("tiny"), "Q3_K", vocab, dir.resolve("x.gguf"), msg -> {}));
            assertEquals("unknown type 'Q3_K' (one of [F32, F16, BF16, Q8_0, Q4_0, Q4_K_M, TQ2_0, TQ1_0])", e.getMessage());
        }
    }
}
