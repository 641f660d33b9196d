package dev.vecllama.quant;

import dev.vecllama.gguf.FileType;
import dev.vecllama.gguf.GGMLType;
import dev.vecllama.gguf.GGUFFile;
import dev.vecllama.gguf.GGUFWriter;
import dev.vecllama.gguf.MetadataValue;
import dev.vecllama.gguf.TensorInfo;
import dev.vecllama.kernel.ThreadPool;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Quantizes a whole GGUF model: every 2-D {@code *.weight} tensor gets the type the target's rules
 * choose (llama.cpp's llama_tensor_get_type for the same file type), everything else is copied, the
 * metadata is kept with {@code general.file_type} updated. The output appears only once complete.
 */
public final class ModelQuantizer {

    /** What {@code quantize ... TYPE} accepts: a default tensor type and the file type recorded for it. */
    public enum Target {
        Q8_0(GGMLType.Q8_0, "Q8_0"),
        Q4_0(GGMLType.Q4_0, "Q4_0"),
        /** Every weight Q4_K ({@code llama-quantize --pure Q4_K_S}). */
        Q4_K(GGMLType.Q4_K, "Q4_K_S"),
        /** Every weight Q6_K. */
        Q6_K(GGMLType.Q6_K, "Q6_K"),
        /** Q4_K, with Q6_K where llama.cpp's Q4_K_M puts it. */
        Q4_K_M(GGMLType.Q4_K, "Q4_K_M"),
        /** Ternary, with llama.cpp's Q6_K output (or tied embedding) and Q4_K embedding. */
        TQ1_0(GGMLType.TQ1_0, "TQ1_0"),
        TQ2_0(GGMLType.TQ2_0, "TQ2_0"),
        /** The layers' attention and FFN weights in NF4 and every other tensor as it is: {@code --nf4}'s model, saved. */
        NF4(GGMLType.NF4, "NF4"),
        /** The same with double-quantized scales: {@code --nf4-double}'s model. */
        NF4_DQ(GGMLType.NF4_DQ, "NF4_DQ");

        final GGMLType base;
        final int fileType;

        Target(GGMLType base, String fileTypeName) {
            this.base = base;
            this.fileType = FileType.id(fileTypeName);
        }

        public static Target parse(String name) {
            try {
                return valueOf(name.toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown quantization type '" + name + "' (choose from "
                        + String.join(", ", Arrays.stream(values()).map(Enum::name).toList()) + ")");
            }
        }

        /** Single-type targets apply no per-tensor rules (llama-quantize's --pure). */
        boolean pure() {
            return this == Q4_K || this == Q6_K;
        }

        boolean ternary() {
            return this == TQ1_0 || this == TQ2_0;
        }

        /** NF4 converts what {@code --nf4} converts, so that a saved model runs as the converted one does. */
        boolean linearOnly() {
            return base.isExtension();
        }
    }

    /** The matrices {@code --nf4} converts (Weights.Layer.linear()). */
    private static final Pattern LINEAR = Pattern.compile("blk\\.\\d+\\.(attn_[qkv]|attn_output|ffn_gate|ffn_up|ffn_down)\\.weight");

    private static final java.util.Set<GGMLType> FLOAT_TYPES = java.util.EnumSet.of(GGMLType.F32, GGMLType.F16, GGMLType.BF16);

    private ModelQuantizer() {}

    /** The type each tensor gets, in file order; tensors absent from the map are copied unchanged. */
    static Map<String, GGMLType> plan(GGUFFile in, Target target) {
        Map<String, TensorInfo> tensors = in.tensors();
        boolean tiedOutput = !tensors.containsKey("output.weight");
        int nAttnV = count(tensors, ".attn_v.weight"), nFfnDown = count(tensors, ".ffn_down.weight");
        int iAttnV = 0, iFfnDown = 0;
        Map<String, GGMLType> types = new LinkedHashMap<>();
        for (TensorInfo t : tensors.values()) {
            String name = t.name();
            if (!name.endsWith(".weight") || t.dims().length < 2) continue;
            if (target.linearOnly() && !LINEAR.matcher(name).matches()) continue;
            GGMLType type = target.base;
            if (!target.pure() && !target.linearOnly()) {
                boolean output = name.equals("output.weight") || (tiedOutput && name.equals("token_embd.weight"));
                if (output && target.base != GGMLType.Q8_0) type = GGMLType.Q6_K;
                if (target.ternary() && !output && name.equals("token_embd.weight")) type = GGMLType.Q4_K;
                if (target == Target.Q4_K_M && name.endsWith(".attn_v.weight") && useMoreBits(iAttnV, nAttnV)) type = GGMLType.Q6_K;
                if (target == Target.Q4_K_M && name.endsWith(".ffn_down.weight") && useMoreBits(iFfnDown, nFfnDown)) type = GGMLType.Q6_K;
            }
            if (name.endsWith(".attn_v.weight")) iAttnV++;
            if (name.endsWith(".ffn_down.weight")) iFfnDown++;
            // Rows that do not fill whole blocks: llama.cpp's fallback of 32 (Q4_0 for ternary, else Q8_0)
            // may still fit; otherwise the tensor is kept as it is.
            if (t.cols() % type.blockSize != 0) {
                GGMLType fallback = type == GGMLType.TQ1_0 || type == GGMLType.TQ2_0 ? GGMLType.Q4_0 : GGMLType.Q8_0;
                type = t.cols() % fallback.blockSize == 0 && !target.linearOnly() ? fallback : null;
            }
            if (type != null) types.put(name, type);
        }
        return types;
    }

    /** llama.cpp's choice of layers that get more bits: the first and last eighth, and every third in between. */
    static boolean useMoreBits(int i, int n) {
        return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
    }

    private static int count(Map<String, TensorInfo> tensors, String suffix) {
        return (int) tensors.keySet().stream().filter(n -> n.endsWith(suffix)).count();
    }

    public static void quantize(Path inPath, Path outPath, Target target, boolean allowRequantize, int threads, PrintStream progress) {
        if (Files.exists(outPath) && Files.exists(inPath) && sameFile(inPath, outPath)) {
            throw new IllegalArgumentException("the output " + outPath + " would overwrite the input");
        }
        try (GGUFFile in = GGUFFile.open(inPath); ThreadPool pool = new ThreadPool(threads)) {
            Map<String, GGMLType> types = plan(in, target);
            for (String name : types.keySet()) {
                GGMLType src = in.tensor(name).requireType();
                if (!FLOAT_TYPES.contains(src) && !allowRequantize) {
                    throw new IllegalArgumentException(inPath + " is already quantized (" + name + " is " + src
                            + "); requantizing loses more quality than quantizing the original, pass --allow-requantize to do it anyway");
                }
                WeightFormat.of(src); // an unsupported source type fails here, before anything is written
            }
            GGUFWriter w = new GGUFWriter().putAll(in.metadataCopy())
                    .put("general.file_type", MetadataValue.uint32(target.fileType))
                    .put("general.quantization_version", MetadataValue.uint32(2));
            int total = in.tensors().size();
            int index = 0;
            for (TensorInfo t : in.tensors().values()) {
                int number = ++index;
                GGMLType to = types.get(t.name());
                MemorySegment data = in.tensorData(t);
                if (to == null) {
                    w.addTensor(t.name(), t.requireType(), t.dims(), dst -> {
                        report(progress, number, total, t, t.type());
                        dst.copyFrom(data);
                    });
                } else {
                    w.addTensor(t.name(), to, t.dims(), dst -> {
                        report(progress, number, total, t, to);
                        quantizeTensor(pool, t, data, RowQuantizer.of(to), dst);
                    });
                }
            }
            w.write(outPath);
        }
    }

    private static void quantizeTensor(ThreadPool pool, TensorInfo t, MemorySegment src, RowQuantizer q, MemorySegment dst) {
        WeightFormat from = WeightFormat.of(t.requireType());
        int cols = Math.toIntExact(t.cols());
        long srcRow = t.type().rowBytes(cols), dstRow = q.type().rowBytes(cols);
        float[][] rows = new float[pool.threads()][cols];
        // The writer's mapping belongs to its own thread, so the workers fill a shared buffer that is copied over.
        try (Arena arena = Arena.ofShared()) {
            MemorySegment out = arena.allocate(dst.byteSize());
            pool.parallelFor(Math.toIntExact(t.rows()), 1, (thread, r0, r1) -> {
                float[] row = rows[thread];
                for (int r = r0; r < r1; r++) {
                    from.dequantize(src, r * srcRow, row, 0, cols);
                    q.quantize(row, 0, cols, out, r * dstRow);
                }
            });
            dst.copyFrom(out);
        }
    }

    private static void report(PrintStream out, int number, int total, TensorInfo t, GGMLType to) {
        if (out == null) return;
        String shape = String.join(" x ", Arrays.stream(t.dims()).mapToObj(Long::toString).toList());
        out.printf("[%3d/%d] %-32s %-5s -> %-5s [%s]%n", number, total, t.name(), t.type(), to, shape);
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            return Files.isSameFile(a, b);
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
