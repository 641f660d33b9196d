package dev.vecllama.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vecllama.gguf.FileType;
import dev.vecllama.gguf.GGMLType;
import dev.vecllama.gguf.GGUFFile;
import dev.vecllama.gguf.GGUFWriter;
import dev.vecllama.gguf.MetadataValue;
import dev.vecllama.gguf.TensorInfo;
import dev.vecllama.quant.ModelQuantizer;
import dev.vecllama.quant.ModelQuantizer.Target;
import dev.vecllama.quant.WeightFormat;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Quantizing a small synthetic F32 model: types chosen, metadata kept, values within each format's error. */
class QuantizeTest {
    @TempDir
    Path dir;

    private static final int COLS = 512, ROWS = 6;

    /** Two "layers" with attn_v and ffn_down, a tied embedding, a norm; weights Gaussian with a few outliers. */
    private Path smallModel() {
        SplittableRandom rnd = new SplittableRandom(7);
        GGUFWriter w = new GGUFWriter()
                .put("general.architecture", MetadataValue.string("llama"))
                .put("general.name", MetadataValue.string("tiny test"))
                .put("general.file_type", MetadataValue.uint32(0));
        for (String name : new String[] {"token_embd.weight", "blk.0.attn_v.weight", "blk.0.ffn_down.weight",
                "blk.1.attn_v.weight", "blk.1.ffn_down.weight"}) {
            float[] v = new float[COLS * ROWS];
            for (int i = 0; i < v.length; i++) v[i] = (float) (rnd.nextDouble() < 0.01 ? 8 * rnd.nextGaussian() : rnd.nextGaussian());
            w.addTensor(name, GGMLType.F32, new long[] {COLS, ROWS}, MemorySegment.ofArray(v));
        }
        float[] norm = new float[COLS];
        for (int i = 0; i < COLS; i++) norm[i] = 1 + i * 1e-3f;
        w.addTensor("output_norm.weight", GGMLType.F32, new long[] {COLS}, MemorySegment.ofArray(norm));
        Path p = dir.resolve("tiny-f32.gguf");
        w.write(p);
        return p;
    }

    private static float[] values(GGUFFile f, TensorInfo t) {
        float[] v = new float[(int) t.elementCount()];
        WeightFormat fmt = WeightFormat.of(t.type());
        long rowBytes = t.type().bytesFor(t.cols());
        for (int r = 0; r < t.rows(); r++) fmt.dequantize(f.tensorData(t), r * rowBytes, v, r * (int) t.cols(), (int) t.cols());
        return v;
    }

    /** Root-mean-square error relative to the weights' own RMS. */
    private static double relativeError(float[] a, float[] b) {
        double e = 0, s = 0;
        for (int i = 0; i < a.length; i++) {
            e += (a[i] - b[i]) * (double) (a[i] - b[i]);
            s += a[i] * (double) a[i];
        }
        return Math.sqrt(e / s);
    }

    @ParameterizedTest
    @CsvSource({
        // target, token_embd, blk.0.attn_v, blk.1.ffn_down, max relative RMS error of a Q4/Q6/Q8 tensor
        "Q8_0,   Q8_0, Q8_0, Q8_0, 0.01",
        "Q4_0,   Q6_K, Q4_0, Q4_0, 0.15",
        "Q4_K,   Q4_K, Q4_K, Q4_K, 0.12",
        "Q6_K,   Q6_K, Q6_K, Q6_K, 0.03",
        "Q4_K_M, Q6_K, Q4_K, Q6_K, 0.12",
    })
    void roundTripsWithinTheFormatsError(String target, GGMLType embd, GGMLType attnV0, GGMLType ffnDown1, double bound) {
        Path in = smallModel(), out = dir.resolve("q.gguf");
        ModelQuantizer.quantize(in, out, Target.parse(target), false, 2, null);
        try (GGUFFile src = GGUFFile.open(in); GGUFFile q = GGUFFile.open(out)) {
            assertEquals(embd, q.tensor("token_embd.weight").type());
            assertEquals(attnV0, q.tensor("blk.0.attn_v.weight").type());
            assertEquals(ffnDown1, q.tensor("blk.1.ffn_down.weight").type());
            assertEquals(GGMLType.F32, q.tensor("output_norm.weight").type());
            assertEquals("tiny test", q.getString("general.name"));
            assertEquals(Target.parse(target) == Target.Q4_K ? "Q4_K_S" : target, FileType.name(q.getInt("general.file_type")));
            assertArrayEquals(src.tensorData(src.tensor("output_norm.weight")).toArray(ValueLayout.JAVA_BYTE),
                    q.tensorData(q.tensor("output_norm.weight")).toArray(ValueLayout.JAVA_BYTE));
            for (TensorInfo t : q.tensors().values()) {
                if (t.dims().length < 2) continue;
                double err = relativeError(values(src, src.tensor(t.name())), values(q, t));
                double limit = switch (t.type()) {
                    case Q8_0 -> 0.01;
                    case Q6_K -> 0.03;
                    default -> bound;
                };
                assertTrue(err < limit, t.name() + " " + t.type() + ": relative RMS error " + err + " ≥ " + limit);
                assertTrue(err > 0, t.name() + ": quantization changed nothing");
            }
        }
    }

    @Test
    void refusesQuantizedInputUnlessAllowed() {
        Path in = smallModel(), q8 = dir.resolve("q8.gguf"), out = dir.resolve("again.gguf");
        ModelQuantizer.quantize(in, q8, Target.Q8_0, false, 1, null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelQuantizer.quantize(q8, out, Target.Q4_K, false, 1, null));
        assertTrue(e.getMessage().contains("already quantized"), e.getMessage());
        assertFalse(Files.exists(out));
        ModelQuantizer.quantize(q8, out, Target.Q4_K, true, 1, null);
        try (GGUFFile f = GGUFFile.open(out)) {
            assertEquals(GGMLType.Q4_K, f.tensor("blk.0.attn_v.weight").type());
        }
    }

    @Test
    void unknownTypeIsOneLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Target.parse("Q3_K_XL"));
        assertEquals("unknown quantization type 'Q3_K_XL' (choose from Q8_0, Q4_0, Q4_K, Q6_K, Q4_K_M, TQ1_0, TQ2_0, NF4, NF4_DQ)", e.getMessage());
    }

    @Test
    void failedRunLeavesNoFile() throws IOException {
        Path out = dir.resolve("never.gguf");
        assertThrows(RuntimeException.class, () -> ModelQuantizer.quantize(dir.resolve("missing.gguf"), out, Target.Q8_0, false, 1, null));
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "nothing may be written");
        }
    }
}
