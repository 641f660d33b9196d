package dev.vecllama.model;

import dev.vecllama.gguf.GGUFFile;
import dev.vecllama.gguf.GGUFFormatException;
import dev.vecllama.gguf.TensorInfo;

/**
 * Hyper-parameters of a Llama-family model, read from the architecture-prefixed GGUF keys
 * ({@code llama.embedding_length}, {@code qwen2.attention.head_count}, ...).
 */
public record LlamaConfig(
        String architecture,
        int dim,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int ffnDim,
        int vocabSize,
        int contextLength,
        float rmsEps,
        float ropeBase,
        int ropeDim,
        boolean ropeNeox) {

    public int kvDim() {
        return kvHeads * headDim;
    }

    public int qDim() {
        return heads * headDim;
    }

    public static LlamaConfig from(GGUFFile f) {
        String arch = f.getString("general.architecture");
        boolean neox = switch (arch) {
            case "llama" -> false;
            // llama.cpp rotates bitnet's heads NEOX-style (halves, not adjacent pairs).
            case "qwen2", "bitnet" -> true;
            default -> throw new UnsupportedArchitectureException("architecture '" + arch + "' is not supported (llama, qwen2 and bitnet are)");
        };
        String p = arch + ".";
        int dim = positive(f, p + "embedding_length");
        int heads = positive(f, p + "attention.head_count");
        int kvHeads = f.has(p + "attention.head_count_kv") ? positive(f, p + "attention.head_count_kv") : heads;
        if (heads % kvHeads != 0) {
            throw new GGUFFormatException(p + "attention.head_count " + heads + " is not a multiple of head_count_kv " + kvHeads);
        }
        int headDim = f.getInt(p + "attention.key_length", dim / heads);
        int ropeDim = f.getInt(p + "rope.dimension_count", headDim);
        if (ropeDim > headDim || ropeDim % 2 != 0) {
            throw new GGUFFormatException(p + "rope.dimension_count " + ropeDim + " does not fit head size " + headDim);
        }
        TensorInfo embd = f.tensor("token_embd.weight");
        if (embd == null) throw new GGUFFormatException("missing tensor token_embd.weight");
        int vocab = Math.toIntExact(embd.rows());
        return new LlamaConfig(arch, dim, positive(f, p + "block_count"), heads, kvHeads, headDim,
                positive(f, p + "feed_forward_length"), vocab, positive(f, p + "context_length"),
                f.getFloat(p + "attention.layer_norm_rms_epsilon", 1e-5f),
                f.getFloat(p + "rope.freq_base", 10000f), ropeDim, neox);
    }

    private static int positive(GGUFFile f, String key) {
        int v = f.getInt(key);
        if (v <= 0) throw new GGUFFormatException("metadata " + key + " = " + v + " must be positive");
        return v;
    }
}
