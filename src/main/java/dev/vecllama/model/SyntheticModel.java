package dev.vecllama.model;

import dev.vecllama.gguf.FileType;
import dev.vecllama.gguf.GGMLType;
import dev.vecllama.gguf.GGUFFile;
import dev.vecllama.gguf.GGUFWriter;
import dev.vecllama.gguf.MetadataValue;
import dev.vecllama.quant.RowQuantizer;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Random-weight GGUF files of real model shapes, for benchmarks at the scale users run (a 1B model
 * streams gigabytes per token, the bundled one lives in cache). Weights are random but well-formed:
 * quantized blocks get small positive scales and random codes, so logits stay finite. The tokenizer
 * is copied from a real file so the result runs like any model.
 */
public final class SyntheticModel {
    private SyntheticModel() {}

    /** A Llama shape: dim, layers, heads, kv heads, ffn, vocab, context. */
    public record Shape(String name, int dim, int layers, int heads, int kvHeads, int ffn, int vocab, int context) {}

    public static final Map<String, Shape> SHAPES = Map.of(
            "tiny", new Shape("tiny", 256, 6, 8, 4, 768, 32000, 256),
            "llama-1b", new Shape("llama-1b (TinyLlama 1.1B shape)", 2048, 22, 32, 4, 5632, 32000, 2048),
            "llama-3b", new Shape("llama-3b (OpenLLaMA 3B shape)", 3200, 26, 32, 32, 8640, 32000, 2048),
            "llama-7b", new Shape("llama-7b (Llama 2 7B shape)", 4096, 32, 32, 32, 11008, 32000, 4096));

    /**
     * The file types we can write: every matrix in one type, llama.cpp's Q4_K_M mix, or a ternary
     * model (TQ2_0, TQ1_0), whose embedding and output stay in Q6_K as in BitNet b1.58 files.
     */
    public static final Map<String, GGMLType> TYPES = orderedTypes();

    private static Map<String, GGMLType> orderedTypes() {
        Map<String, GGMLType> t = new LinkedHashMap<>();
        for (GGMLType g : new GGMLType[] {GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0, GGMLType.Q4_0}) t.put(g.name(), g);
        t.put("Q4_K_M", GGMLType.Q4_K);
        t.put("TQ2_0", GGMLType.TQ2_0);
        t.put("TQ1_0", GGMLType.TQ1_0);
        return Collections.unmodifiableMap(t);
    }

    /**
     * Writes {@code shape} in {@code typeName} to {@code out}, with the tokenizer of {@code vocabFrom}
     * (whose vocabulary must have {@code shape.vocab} tokens).
     */
    public static void write(Shape shape, String typeName, GGUFFile vocabFrom, Path out, Consumer<String> progress) {
        GGMLType main = TYPES.get(typeName);
        if (main == null) throw new IllegalArgumentException("unknown type '" + typeName + "' (one of " + TYPES.keySet() + ")");
        boolean kMix = typeName.equals("Q4_K_M");
        GGMLType edge = kMix || main == GGMLType.TQ2_0 || main == GGMLType.TQ1_0 ? GGMLType.Q6_K : main;
        String[] tokens = vocabFrom.getStringArray("tokenizer.ggml.tokens");
        if (tokens == null || tokens.length != shape.vocab()) {
            throw new IllegalArgumentException(vocabFrom.path() + " has no vocabulary of " + shape.vocab() + " tokens to copy");
        }
        GGUFWriter w = new GGUFWriter();
        w.put("general.architecture", MetadataValue.string("llama"));
        w.put("general.name", MetadataValue.string("synthetic " + shape.name()));
        w.put("general.file_type", MetadataValue.uint32(FileType.id(typeName)));
        w.put("general.quantization_version", MetadataValue.uint32(2));
        w.put("llama.context_length", MetadataValue.uint32(shape.context()));
        w.put("llama.embedding_length", MetadataValue.uint32(shape.dim()));
        w.put("llama.block_count", MetadataValue.uint32(shape.layers()));
        w.put("llama.feed_forward_length", MetadataValue.uint32(shape.ffn()));
        w.put("llama.attention.head_count", MetadataValue.uint32(shape.heads()));
        w.put("llama.attention.head_count_kv", MetadataValue.uint32(shape.kvHeads()));
        w.put("llama.rope.dimension_count", MetadataValue.uint32(shape.dim() / shape.heads()));
        w.put("llama.attention.layer_norm_rms_epsilon", MetadataValue.float32(1e-5f));
        w.put("llama.rope.freq_base", MetadataValue.float32(10000f));
        w.put("llama.vocab_size", MetadataValue.uint32(shape.vocab()));
        vocabFrom.metadata().forEach((k, v) -> {
            if (k.startsWith("tokenizer.")) w.put(k, v);
        });

        int kvDim = shape.kvHeads() * (shape.dim() / shape.heads());
        long seed = 1;
        w.addTensor("token_embd.weight", edge, dims(shape.dim(), shape.vocab()), random(edge, shape.dim(), seed++));
        w.addTensor("output_norm.weight", GGMLType.F32, dims(shape.dim()), ones());
        w.addTensor("output.weight", edge, dims(shape.dim(), shape.vocab()), random(edge, shape.dim(), seed++));
        for (int l = 0; l < shape.layers(); l++) {
            String p = "blk." + l + ".";
            // llama.cpp's Q4_K_M keeps attn_v and ffn_down in Q6_K for the first and last eighths and every third layer between.
            boolean sensitive = kMix && (l < shape.layers() / 8 || l >= 7 * shape.layers() / 8 || (l - shape.layers() / 8) % 3 == 2);
            GGMLType vd = sensitive ? GGMLType.Q6_K : main;
            w.addTensor(p + "attn_norm.weight", GGMLType.F32, dims(shape.dim()), ones());
            w.addTensor(p + "attn_q.weight", main, dims(shape.dim(), shape.dim()), random(main, shape.dim(), seed++));
            w.addTensor(p + "attn_k.weight", main, dims(shape.dim(), kvDim), random(main, shape.dim(), seed++));
            w.addTensor(p + "attn_v.weight", vd, dims(shape.dim(), kvDim), random(vd, shape.dim(), seed++));
            w.addTensor(p + "attn_output.weight", main, dims(shape.dim(), shape.dim()), random(main, shape.dim(), seed++));
            w.addTensor(p + "ffn_norm.weight", GGMLType.F32, dims(shape.dim()), ones());
            w.addTensor(p + "ffn_gate.weight", main, dims(shape.dim(), shape.ffn()), random(main, shape.dim(), seed++));
            w.addTensor(p + "ffn_up.weight", main, dims(shape.dim(), shape.ffn()), random(main, shape.dim(), seed++));
            w.addTensor(p + "ffn_down.weight", vd, dims(shape.ffn(), shape.dim()), random(vd, shape.ffn(), seed++));
        }
        progress.accept(String.format("writing %s, %,d bytes", out, w.totalSize()));
        w.write(out);
    }

    private static long[] dims(long... d) {
        return d;
    }

    private static GGUFWriter.Filler ones() {
        return dst -> {
            for (long i = 0; i < dst.byteSize(); i += 4) dst.set(ValueLayout.JAVA_FLOAT_UNALIGNED, i, 1f);
        };
    }

    /**
     * Random blocks: random bytes everywhere, then each block's scale fields overwritten with small
     * positive half floats (and float weights drawn near zero), so every weight is finite and small.
     * Ternary rows of {@code cols} weights are quantized from random weights in {-1, 0, 1}: their
     * packed codes have invalid values that random bytes would hit.
     */
    private static GGUFWriter.Filler random(GGMLType type, long cols, long seed) {
        return dst -> {
            SplittableRandom rnd = new SplittableRandom(seed);
            if (type == GGMLType.TQ2_0 || type == GGMLType.TQ1_0) {
                ternaryRows(RowQuantizer.of(type), Math.toIntExact(cols), dst, rnd);
                return;
            }
            long n = dst.byteSize();
            long i = 0;
            for (; i + 8 <= n; i += 8) dst.set(ValueLayout.JAVA_LONG_UNALIGNED, i, rnd.nextLong());
            for (; i < n; i++) dst.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt());
            switch (type) {
                case F32 -> forEach(dst, 4, o -> dst.set(ValueLayout.JAVA_FLOAT_UNALIGNED, o, (float) (rnd.nextGaussian() * 0.02)));
                case F16 -> forEach(dst, 2, o -> half(dst, o, (float) (rnd.nextGaussian() * 0.02)));
                case BF16 -> forEach(dst, 2, o -> dst.set(ValueLayout.JAVA_SHORT_UNALIGNED, o,
                        (short) (Float.floatToRawIntBits((float) (rnd.nextGaussian() * 0.02)) >>> 16)));
                case Q8_0 -> forEach(dst, type.typeSize, o -> half(dst, o, 0.02f / 127));
                case Q4_0 -> forEach(dst, type.typeSize, o -> half(dst, o, 0.02f / 8));
                case Q4_K -> forEach(dst, type.typeSize, o -> {
                    half(dst, o, 0.02f / 15 / 63);
                    half(dst, o + 2, 0.01f / 63);
                });
                case Q6_K -> forEach(dst, type.typeSize, o -> half(dst, o + type.typeSize - 2, 0.02f / 32 / 127));
                default -> throw new IllegalArgumentException("cannot write random " + type + " blocks");
            }
        };
    }

    private static void ternaryRows(RowQuantizer q, int cols, MemorySegment dst, SplittableRandom rnd) {
        float[] row = new float[cols];
        long rowBytes = q.type().rowBytes(cols);
        for (long at = 0; at < dst.byteSize(); at += rowBytes) {
            for (int j = 0; j < cols; j++) row[j] = 0.02f * (rnd.nextInt(3) - 1);
            q.quantize(row, 0, cols, dst, at);
        }
    }

    private static void forEach(MemorySegment dst, int stride, java.util.function.LongConsumer at) {
        for (long o = 0; o + stride <= dst.byteSize(); o += stride) at.accept(o);
    }

    private static void half(MemorySegment dst, long o, float v) {
        dst.set(ValueLayout.JAVA_SHORT_UNALIGNED, o, Float.floatToFloat16(v));
    }
}
