package dev.vecllama.model;

import dev.vecllama.gguf.GGUFFile;
import dev.vecllama.gguf.GGUFFormatException;
import dev.vecllama.gguf.TensorInfo;
import dev.vecllama.kernel.WeightMatrix;
import dev.vecllama.quant.UnsupportedFormatException;
import dev.vecllama.quant.WeightFormat;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The model's tensors. Matrices stay in the mapped file; only the small 1-D norm weights and
 * biases are read into float arrays.
 */
public final class Weights {

    public static final class Layer {
        public final float[] attnNorm, ffnNorm;
        public final WeightMatrix wq, wk, wv, wo, gate, up, down;
        /** Q/K/V biases (qwen2), or null. */
        public final float[] bq, bk, bv;
        /** bitnet's norms of the attention output before wo and of the FFN's product before down; null otherwise. */
        public final float[] attnSubNorm, ffnSubNorm;

        Layer(GGUFFile f, LlamaConfig c, int i) {
            String p = "blk." + i + ".";
            attnNorm = vector(f, p + "attn_norm.weight", c.dim());
            ffnNorm = vector(f, p + "ffn_norm.weight", c.dim());
            wq = matrix(f, p + "attn_q.weight", c.qDim(), c.dim());
            wk = matrix(f, p + "attn_k.weight", c.kvDim(), c.dim());
            wv = matrix(f, p + "attn_v.weight", c.kvDim(), c.dim());
            wo = matrix(f, p + "attn_output.weight", c.dim(), c.qDim());
            gate = matrix(f, p + "ffn_gate.weight", c.ffnDim(), c.dim());
            up = matrix(f, p + "ffn_up.weight", c.ffnDim(), c.dim());
            down = matrix(f, p + "ffn_down.weight", c.dim(), c.ffnDim());
            bq = optionalVector(f, p + "attn_q.bias", c.qDim());
            bk = optionalVector(f, p + "attn_k.bias", c.kvDim());
            bv = optionalVector(f, p + "attn_v.bias", c.kvDim());
            boolean bitnet = c.architecture().equals("bitnet");
            attnSubNorm = bitnet ? vector(f, p + "attn_sub_norm.weight", c.qDim()) : null;
            ffnSubNorm = bitnet ? vector(f, p + "ffn_sub_norm.weight", c.ffnDim()) : null;
            // llama.cpp multiplies a product by its matrix's optional per-tensor scale; we do not yet.
            for (String m : new String[] {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"}) {
                if (f.tensor(p + m + ".scale") != null) throw new GGUFFormatException("tensor " + p + m + ".scale: per-tensor weight scales are not supported");
            }
        }

        private Layer(Layer l, UnaryOperator<WeightMatrix> linear) {
            attnNorm = l.attnNorm;
            ffnNorm = l.ffnNorm;
            wq = linear.apply(l.wq);
            wk = linear.apply(l.wk);
            wv = linear.apply(l.wv);
            wo = linear.apply(l.wo);
            gate = linear.apply(l.gate);
            up = linear.apply(l.up);
            down = linear.apply(l.down);
            bq = l.bq;
            bk = l.bk;
            bv = l.bv;
            attnSubNorm = l.attnSubNorm;
            ffnSubNorm = l.ffnSubNorm;
        }

        /** The attention and FFN matrices, in the order {@link #mapLinear} visits them. */
        public WeightMatrix[] linear() {
            return new WeightMatrix[] {wq, wk, wv, wo, gate, up, down};
        }
    }

    public final WeightMatrix tokenEmbedding;
    public final Layer[] layers;
    public final float[] outputNorm;
    /** The output projection: {@code output.weight}, or the token embedding when they are tied. */
    public final WeightMatrix output;

    public Weights(GGUFFile f, LlamaConfig c) {
        tokenEmbedding = matrix(f, "token_embd.weight", c.vocabSize(), c.dim());
        layers = new Layer[c.layers()];
        for (int i = 0; i < layers.length; i++) layers[i] = new Layer(f, c, i);
        outputNorm = vector(f, "output_norm.weight", c.dim());
        output = f.tensor("output.weight") != null
                ? matrix(f, "output.weight", c.vocabSize(), c.dim())
                : tokenEmbedding;
    }

    private Weights(Weights w, UnaryOperator<WeightMatrix> linear) {
        tokenEmbedding = w.tokenEmbedding;
        layers = new Layer[w.layers.length];
        for (int i = 0; i < layers.length; i++) layers[i] = new Layer(w.layers[i], linear);
        outputNorm = w.outputNorm;
        output = w.output;
    }

    /**
     * These weights with every layer's linear matrices (attention and FFN) replaced by
     * {@code linear}'s result, layer by layer; the embedding and output projection are kept as they
     * are. How weights are re-encoded on load (NF4).
     */
    public Weights mapLinear(UnaryOperator<WeightMatrix> linear) {
        return new Weights(this, linear);
    }

    /**
     * One matrix of each weight format the model multiplies with, the first found: what the kernel
     * warm-up runs on, so that the JIT compiles each kernel for this model's own memory segments.
     */
    public Collection<WeightMatrix> formatSamples() {
        Map<WeightFormat, WeightMatrix> f = new LinkedHashMap<>();
        f.putIfAbsent(output.format, output);
        for (Layer l : layers) {
            for (WeightMatrix m : l.linear()) f.putIfAbsent(m.format, m);
        }
        return f.values();
    }

    private static TensorInfo require(GGUFFile f, String name) {
        TensorInfo t = f.tensor(name);
        if (t == null) throw new GGUFFormatException("missing tensor " + name);
        return t;
    }

    static WeightMatrix matrix(GGUFFile f, String name, int rows, int cols) {
        TensorInfo t = require(f, name);
        if (t.dims().length != 2 || t.cols() != cols || t.rows() != rows) {
            throw new GGUFFormatException("tensor " + name + " has shape " + java.util.Arrays.toString(t.dims())
                    + ", expected [" + cols + ", " + rows + "]");
        }
        requireSupported(t);
        return WeightMatrix.of(f, t);
    }

    /** The formats know only the type; the user needs to know which tensor of the file has it. */
    private static WeightFormat requireSupported(TensorInfo t) {
        try {
            return WeightFormat.of(t.requireType());
        } catch (UnsupportedFormatException e) {
            throw new UnsupportedFormatException("tensor " + t.name() + " has type " + t.type() + ", which vecllama does not support");
        }
    }

    static float[] vector(GGUFFile f, String name, int n) {
        TensorInfo t = require(f, name);
        if (t.elementCount() != n) {
            throw new GGUFFormatException("tensor " + name + " has " + t.elementCount() + " elements, expected " + n);
        }
        float[] v = new float[n];
        requireSupported(t).dequantize(f.tensorData(t), 0, v, 0, n);
        return v;
    }

    static float[] optionalVector(GGUFFile f, String name, int n) {
        return f.tensor(name) == null ? null : vector(f, name, n);
    }
}
