package dev.vecllama.quant;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.vecllama.activation.Activation;
import dev.vecllama.gguf.GGUFFile;
import dev.vecllama.gguf.TensorInfo;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Our layouts against files llama.cpp's quantizer wrote: every quantized copy of vl-tiny-f dequantizes
 * to within its format's rounding of the F16 copy (both come from the same F32 original), and the
 * vector dot agrees with the reference on real rows.
 */
class RealModelTest {
    private static final Path MODELS = Path.of("../shared/models");

    private static GGUFFile open(String name) {
        Path p = MODELS.resolve(name);
        assumeTrue(Files.exists(p), "model file " + p + " not found");
        return GGUFFile.open(p);
    }

    /** Dequantized rows of a tensor, flattened. */
    private static float[] dequantize(GGUFFile f, String tensor) {
        TensorInfo t = f.tensor(tensor);
        WeightFormat fmt = WeightFormat.of(t.requireType());
        int cols = (int) t.cols(), rows = (int) t.rows();
        float[] out = new float[cols * rows];
        MemorySegment w = f.tensorData(t);
        long rowBytes = t.requireType().bytesFor(cols);
        for (int r = 0; r < rows; r++) fmt.dequantize(w, r * rowBytes, out, r * cols, cols);
        return out;
    }

    @Test
    void q8_0EmbeddingsMatchF16WithinHalfAStep() {
        try (GGUFFile q8 = open("vl-tiny-f-Q8_0.gguf"); GGUFFile f16 = open("vl-tiny-f-F16.gguf")) {
            float[] a = dequantize(q8, "token_embd.weight"), b = dequantize(f16, "token_embd.weight");
            for (int blk = 0; blk < a.length / 32; blk++) {
                float amax = 0;
                for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(b[blk * 32 + j]));
                float step = amax / 127;
                for (int j = 0; j < 32; j++) {
                    int i = blk * 32 + j;
                    // Half a quantization step, plus the f16 roundings of the scale and of the F16 copy.
                    float tol = 0.5f * step + 127 * step * 0x1p-11f + Math.abs(b[i]) * 0x1p-10f + 1e-7f;
                    assertTrue(Math.abs(a[i] - b[i]) <= tol, "element " + i + ": Q8_0 " + a[i] + " vs F16 " + b[i]);
                }
            }
        }
    }

    @Test
    void fourAndSixBitTensorsMatchF16() {
        check("vl-tiny-f-Q4_0.gguf", "blk.0.ffn_gate.weight", 0.15);
        check("vl-tiny-f-Q4_0.gguf", "token_embd.weight", 0.05); // Q6_K
        check("vl-tiny-f-Q4_K_M.gguf", "blk.0.attn_q.weight", 0.12); // Q4_K
        check("vl-tiny-f-Q4_K_M.gguf", "token_embd.weight", 0.05); // Q6_K
    }

    /** Relative RMS error of the quantized tensor against F16 below {@code bound}, and real-row dots. */
    private static void check(String file, String tensor, double bound) {
        try (GGUFFile q = open(file); GGUFFile f16 = open("vl-tiny-f-F16.gguf")) {
            float[] a = dequantize(q, tensor), b = dequantize(f16, tensor);
            double err = 0, norm = 0;
            for (int i = 0; i < a.length; i++) {
                err += (a[i] - b[i]) * (double) (a[i] - b[i]);
                norm += b[i] * (double) b[i];
            }
            double rel = Math.sqrt(err / norm);
            assertTrue(rel < bound, file + " " + tensor + " (" + q.tensor(tensor).type() + "): relative RMS error " + rel);

            TensorInfo t = q.tensor(tensor);
            WeightFormat fmt = WeightFormat.of(t.requireType());
            int cols = (int) t.cols();
            Activation x = RandomWeights.activation(cols, fmt.activationKind(), new Random(3));
            KernelChecks.compareRows(fmt, q.tensorData(t), 16, cols, x, file + " " + tensor);
        }
    }
}
