package dev.vecllama.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vecllama.gguf.FileType;
import dev.vecllama.gguf.GGMLType;
import dev.vecllama.gguf.GGUFFile;
import dev.vecllama.gguf.GGUFWriter;
import dev.vecllama.gguf.MetadataValue;
import dev.vecllama.gguf.TensorInfo;
import dev.vecllama.kernel.WeightMatrix;
import dev.vecllama.quant.ModelQuantizer;
import dev.vecllama.quant.ModelQuantizer.Target;
import dev.vecllama.quant.NF4;
import dev.vecllama.quant.NF4Conversion;
import dev.vecllama.quant.WeightFormat;
import dev.vecllama.testutil.Logits;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The ternary and NF4 targets of {@code quantize}: ternary files as llama.cpp writes them, NF4 files
 * that load as the model {@code --nf4} converts in memory, and all of them running.
 */
class TernaryAndNF4FilesTest {
    private static final Path MODELS = Path.of("../shared/models");
    private static final Path F16 = MODELS.resolve("vl-tiny-f-F16.gguf");
    /** "The list type" and the start of its continuation. */
    private static final int[] TOKENS = {1, 450, 1051, 1134, 338, 1304, 304, 1653};

    @TempDir
    Path dir;

    /**
     * The ternary-trained model's weights, dequantized from llama.cpp's TQ file into an F32 file we
     * write, quantize back to llama.cpp's very bytes, in either ternary format (llama.cpp made both
     * files from one F32 original, so each can be rebuilt from the other), with its tensor types.
     */
    @ParameterizedTest
    @CsvSource({"TQ2_0, TQ2_0", "TQ1_0, TQ1_0", "TQ2_0, TQ1_0", "TQ1_0, TQ2_0"})
    void exactlyTernaryWeightsGiveLlamaCppsBytes(String source, String target) {
        Path f32 = dir.resolve("ternary-f32.gguf"), ours = dir.resolve("ours.gguf");
        writeF32(MODELS.resolve("vl-tiny-ternary-" + source + ".gguf"), f32);
        ModelQuantizer.quantize(f32, ours, Target.parse(target), false, 2, null);
        try (GGUFFile q = GGUFFile.open(ours); GGUFFile ref = GGUFFile.open(MODELS.resolve("vl-tiny-ternary-" + target + ".gguf"))) {
            assertEquals(ref.getInt("general.file_type"), q.getInt("general.file_type"));
            assertEquals(target, FileType.name(q.getInt("general.file_type")));
            int ternary = 0;
            for (TensorInfo r : ref.tensors().values()) {
                TensorInfo t = q.tensor(r.name());
                assertEquals(r.type(), t.type(), r.name());
                if (r.type() != GGMLType.valueOf(target)) continue;
                ternary++;
                assertArrayEquals(ref.tensorData(r).toArray(ValueLayout.JAVA_BYTE), q.tensorData(t).toArray(ValueLayout.JAVA_BYTE), r.name());
            }
            assertEquals(42, ternary);
        }
    }

    /** Every tensor of {@code in} dequantized to F32, with the metadata kept and the file type set to F32. */
    private static void writeF32(Path in, Path out) {
        try (GGUFFile f = GGUFFile.open(in)) {
            GGUFWriter w = new GGUFWriter().putAll(f.metadataCopy()).put("general.file_type", MetadataValue.uint32(0));
            for (TensorInfo t : f.tensors().values()) {
                int cols = Math.toIntExact(t.cols()), rows = Math.toIntExact(t.rows());
                float[] v = new float[cols * rows];
                WeightFormat fmt = WeightFormat.of(t.requireType());
                long rowBytes = fmt.rowBytes(cols);
                for (int r = 0; r < rows; r++) fmt.dequantize(f.tensorData(t), r * rowBytes, v, r * cols, cols);
                w.addTensor(t.name(), GGMLType.F32, t.dims(), MemorySegment.ofArray(v));
            }
            w.write(out);
        }
    }

    /**
     * A saved NF4 model is the model {@code --nf4} makes: the same bytes in every converted matrix,
     * every other tensor copied, and so the same logits to the bit.
     */
    @ParameterizedTest
    @ValueSource(strings = {"NF4", "NF4_DQ"})
    void savedNF4IsTheInMemoryConversion(String target) {
        Path out = dir.resolve(target + ".gguf");
        NF4 format = target.equals("NF4") ? NF4.INSTANCE : NF4.DOUBLE_QUANT;
        ModelQuantizer.quantize(F16, out, Target.parse(target), false, 2, null);
        int converted = 0;
        try (GGUFFile src = GGUFFile.open(F16); GGUFFile q = GGUFFile.open(out); Arena arena = Arena.ofShared()) {
            assertEquals(target, FileType.name(q.getInt("general.file_type")));
            for (TensorInfo s : src.tensors().values()) {
                TensorInfo t = q.tensor(s.name());
                byte[] expected;
                if (t.type() == format.type()) {
                    converted++;
                    expected = NF4Conversion.convert(WeightMatrix.of(src, s), format, arena).data.toArray(ValueLayout.JAVA_BYTE);
                } else {
                    assertEquals(s.type(), t.type(), s.name());
                    expected = src.tensorData(s).toArray(ValueLayout.JAVA_BYTE);
                }
                assertArrayEquals(expected, q.tensorData(t).toArray(ValueLayout.JAVA_BYTE), s.name());
            }
        }
        assertEquals(42, converted, "the 7 attention and FFN matrices of 6 layers");
        float[][] saved = logits(out, null), inMemory = logits(F16, format);
        for (int p = 0; p < TOKENS.length; p++) assertArrayEquals(inMemory[p], saved[p], "position " + p);
    }

    /** The ternary targets on a model not trained for them: llama.cpp's tensor types, and a forward pass that runs. */
    @ParameterizedTest
    @ValueSource(strings = {"TQ2_0", "TQ1_0"})
    void ternaryOfAFloatModelRuns(String target) {
        Path out = dir.resolve(target + ".gguf");
        ModelQuantizer.quantize(F16, out, Target.parse(target), false, 2, null);
        try (GGUFFile q = GGUFFile.open(out)) {
            assertEquals(GGMLType.Q6_K, q.tensor("token_embd.weight").type(), "the tied embedding is the output: Q6_K");
            assertEquals(GGMLType.valueOf(target), q.tensor("blk.5.ffn_down.weight").type());
            assertEquals(GGMLType.F32, q.tensor("blk.5.ffn_norm.weight").type());
        }
        for (float[] l : logits(out, null)) {
            for (float v : l) assertTrue(Float.isFinite(v));
        }
    }

    @Test
    void ternaryKeepsAnUntiedEmbeddingAtQ4_K() {
        Path in = dir.resolve("untied.gguf"), out = dir.resolve("untied-tq2.gguf");
        float[] w = new float[256 * 4];
        for (int i = 0; i < w.length; i++) w[i] = (float) Math.sin(i);
        new GGUFWriter().put("general.architecture", MetadataValue.string("llama"))
                .addTensor("token_embd.weight", GGMLType.F32, new long[] {256, 4}, MemorySegment.ofArray(w))
                .addTensor("output.weight", GGMLType.F32, new long[] {256, 4}, MemorySegment.ofArray(w))
                .addTensor("blk.0.attn_q.weight", GGMLType.F32, new long[] {256, 4}, MemorySegment.ofArray(w))
                .addTensor("blk.0.attn_k.weight", GGMLType.F32, new long[] {32, 8}, MemorySegment.ofArray(new float[256]))
                .write(in);
        ModelQuantizer.quantize(in, out, Target.TQ2_0, false, 1, null);
        try (GGUFFile q = GGUFFile.open(out)) {
            assertEquals(GGMLType.Q4_K, q.tensor("token_embd.weight").type());
            assertEquals(GGMLType.Q6_K, q.tensor("output.weight").type());
            assertEquals(GGMLType.TQ2_0, q.tensor("blk.0.attn_q.weight").type());
            assertEquals(GGMLType.Q4_0, q.tensor("blk.0.attn_k.weight").type(), "rows of 32 fall back to llama.cpp's Q4_0");
        }
    }

    private static float[][] logits(Path model, NF4 format) {
        return Logits.teacherForced(model, format, TOKENS);
    }
}
