package dev.vecllama.model;

import dev.vecllama.activation.Activation;
import dev.vecllama.activation.ActivationMode;
import dev.vecllama.kernel.Exp;
import dev.vecllama.kernel.MatMulJob;
import dev.vecllama.kernel.ThreadPool;

/**
 * The Llama-family transformer forward pass (llama, qwen2, bitnet): pre-norm decoder blocks of
 * RMSNorm → grouped-query attention with rotary positions → residual, RMSNorm → SwiGLU FFN →
 * residual; a final RMSNorm and the output projection give the logits. BitNet b1.58 adds one
 * RMSNorm before each of the attention output and FFN down projections (its "sub-norms").
 *
 * <p>It runs a batch of consecutive tokens at once: a prompt in chunks (matrix-matrix products,
 * causal attention within the batch), or one token while generating. Both go through this one path.
 */
public final class Llama {
    public final LlamaConfig config;
    public final Weights weights;
    private final ThreadPool pool;
    private final ActivationMode activationMode;
    /** Per {@link LinearInputs} index, the calibrated scale of that input; null unless static. */
    private final float[] staticScales;

    /** Sees each linear layer's input batch as floats, before it is quantized: calibration's hook. */
    @FunctionalInterface
    public interface InputObserver {
        void observe(int input, Activation[] x, int n);
    }

    public Llama(LlamaConfig config, Weights weights, ThreadPool pool) {
        this(config, weights, pool, ActivationMode.DYNAMIC, null);
    }

    /** {@code staticScales}: one per {@link LinearInputs} index, required with STATIC and ignored otherwise. */
    public Llama(LlamaConfig config, Weights weights, ThreadPool pool, ActivationMode mode, float[] staticScales) {
        if (mode == ActivationMode.STATIC && (staticScales == null || staticScales.length != LinearInputs.count(config.layers()))) {
            throw new IllegalArgumentException("static activation quantization needs one scale per linear input");
        }
        this.config = config;
        this.weights = weights;
        this.pool = pool;
        this.activationMode = mode;
        this.staticScales = mode == ActivationMode.STATIC ? staticScales : null;
    }

    /** Everything one sequence needs between calls: its KV cache and reused scratch buffers. */
    public final class State {
        public final KVCache cache;
        /** Logits of the last token of a batch (row 0), or of every token when allLogits. */
        public final float[][] logits;
        public final int maxBatch;
        /** Tokens the per-token buffers have rows for: the largest batch run so far ({@link #grow}). */
        private int rows;
        final boolean allLogits;
        /**
         * Per token: {@code delta} holds attention's output projection, then the FFN's down projection,
         * each until it is added to x; {@code gate}'s rows are {@code ffnIn}'s floats, which SwiGLU
         * overwrites in place. One buffer less of each: a 1.1B model's 512-token batch held 15 MiB in them.
         */
        final float[][] x, q, k, v, delta, gate, up, ropeCos, ropeSin;
        /** Per thread, for one attention unit: f16 query, f16 accumulator, scores. */
        final float[][][] headScratch;
        /** Per KV head, the current layer's keys transposed for the tiled path; allocated with the first long batch. */
        float[][] keysT;
        /**
         * Per thread, the KV heads of the current layer it attends with, as floats where the cache
         * holds halves (KVCache#toFloats), and which heads it has converted; allocated with its first use.
         */
        final float[][] keysF, valuesF;
        final boolean[][] converted;
        final Activation[] normed, attnIn, ffnIn;
        final MatMulJob matmul = new MatMulJob(pool);
        final AttentionJob attention = new AttentionJob(this);
        final TokenSteps steps = new TokenSteps(this);
        InputObserver observer;

        State(int contextLength, int maxBatch, boolean allLogits) {
            if (contextLength < 1) throw new IllegalArgumentException("context size must be positive, got " + contextLength);
            if (maxBatch < 1) throw new IllegalArgumentException("batch size must be positive, got " + maxBatch);
            LlamaConfig c = config;
            this.maxBatch = maxBatch;
            this.allLogits = allLogits;
            cache = new KVCache(c, contextLength);
            logits = new float[allLogits ? maxBatch : 1][];
            if (!allLogits) logits[0] = new float[c.vocabSize()];
            x = new float[maxBatch][];
            q = new float[maxBatch][];
            k = new float[maxBatch][];
            v = new float[maxBatch][];
            delta = new float[maxBatch][];
            gate = new float[maxBatch][];
            up = new float[maxBatch][];
            ropeCos = new float[maxBatch][];
            ropeSin = new float[maxBatch][];
            keysF = new float[pool.threads()][];
            valuesF = new float[pool.threads()][];
            converted = new boolean[pool.threads()][c.kvHeads()];
            headScratch = new float[pool.threads()][][];
            for (int i = 0; i < headScratch.length; i++) {
                headScratch[i] = new float[][] {new float[c.headDim()], new float[c.headDim()], new float[Attention.padded(contextLength)],
                        new float[Attention.padded(contextLength)]};
            }
            normed = new Activation[maxBatch];
            attnIn = new Activation[maxBatch];
            ffnIn = new Activation[maxBatch];
        }

        /**
         * Rows for the first n tokens of every per-token buffer. They grow with the batches run rather
         * than being allocated for the largest one: a chat or server slot is sized for 512-token
         * batches, and for a 1.1B model those took 60 MiB before its first, often short, prompt.
         */
        void grow(int n) {
            LlamaConfig c = config;
            for (int t = rows; t < n; t++) {
                if (allLogits) logits[t] = new float[c.vocabSize()];
                x[t] = new float[c.dim()];
                q[t] = new float[c.qDim()];
                k[t] = new float[c.kvDim()];
                v[t] = new float[c.kvDim()];
                delta[t] = new float[c.dim()];
                up[t] = new float[c.ffnDim()];
                ropeCos[t] = new float[c.ropeDim() / 2];
                ropeSin[t] = new float[c.ropeDim() / 2];
                normed[t] = activation(c.dim());
                attnIn[t] = activation(c.qDim());
                ffnIn[t] = activation(c.ffnDim());
                gate[t] = ffnIn[t].f;
            }
            rows = Math.max(rows, n);
        }

        private Activation activation(int n) {
            Activation a = new Activation(n);
            if (activationMode == ActivationMode.F32) a.mode(ActivationMode.F32, 0);
            return a;
        }

        /** Calls {@code o} with every linear layer's input from now on (null: stop). */
        public void observe(InputObserver o) {
            observer = o;
        }
    }

    public State newState(int contextLength, int maxBatch, boolean allLogits) {
        return new State(contextLength, maxBatch, allLogits);
    }

    /**
     * Runs {@code tokens[off .. off+n)} at positions {@code pos0 ..} (earlier positions are in the
     * cache), in batches of at most {@code s.maxBatch}. Leaves the logits of the last token in
     * {@code s.logits[0]}, or with allLogits those of every token of the final batch.
     */
    public void forward(State s, int[] tokens, int off, int n, int pos0) {
        for (int done = 0; done < n; done += s.maxBatch) {
            forwardBatch(s, tokens, off + done, Math.min(s.maxBatch, n - done), pos0 + done);
        }
    }

    private void forwardBatch(State s, int[] tokens, int off, int n, int pos0) {
        LlamaConfig c = config;
        if (pos0 + n > s.cache.capacity) {
            throw new IllegalArgumentException("position " + (pos0 + n - 1) + " is past the context size " + s.cache.capacity);
        }
        s.grow(n);
        for (int t = 0; t < n; t++) {
            int token = tokens[off + t];
            if (token < 0 || token >= c.vocabSize()) throw new IllegalArgumentException("token id " + token + " out of range");
            weights.tokenEmbedding.dequantizeRow(token, s.x[t], 0);
            ropeAngles(pos0 + t, s.ropeCos[t], s.ropeSin[t]);
        }

        for (int l = 0; l < c.layers(); l++) {
            Weights.Layer w = weights.layers[l];

            // attention
            s.steps.run(TokenSteps.ATTN_NORM, l, pos0, n);
            input(s, LinearInputs.of(l, LinearInputs.ATTN_QKV), s.normed, n);
            s.matmul.run(s.normed, n, w.wq, s.q, w.wk, s.k, w.wv, s.v);
            s.steps.run(TokenSteps.QKV_ROPE, l, pos0, n);
            s.attention.attend(l, pos0, n);
            if (w.attnSubNorm != null) s.steps.run(TokenSteps.ATTN_SUB_NORM, l, pos0, n); // bitnet
            input(s, LinearInputs.of(l, LinearInputs.ATTN_OUTPUT), s.attnIn, n);
            s.matmul.run(s.attnIn, n, w.wo, s.delta);

            // feed-forward
            s.steps.run(TokenSteps.ATTN_RESIDUAL_FFN_NORM, l, pos0, n);
            input(s, LinearInputs.of(l, LinearInputs.FFN_GATE_UP), s.normed, n);
            s.matmul.run(s.normed, n, w.gate, s.gate, w.up, s.up);
            s.steps.run(TokenSteps.SWIGLU, l, pos0, n);
            input(s, LinearInputs.of(l, LinearInputs.FFN_DOWN), s.ffnIn, n);
            s.matmul.run(s.ffnIn, n, w.down, s.delta);
            s.steps.run(TokenSteps.FFN_RESIDUAL, l, pos0, n);
        }

        if (s.allLogits) {
            for (int t = 0; t < n; t++) rmsNorm(s.normed[t].f, s.x[t], weights.outputNorm, c.rmsEps());
            input(s, LinearInputs.output(c.layers()), s.normed, n);
            s.matmul.run(s.normed, n, weights.output, s.logits);
        } else {
            rmsNorm(s.normed[0].f, s.x[n - 1], weights.outputNorm, c.rmsEps());
            input(s, LinearInputs.output(c.layers()), s.normed, 1);
            s.matmul.run(s.normed, 1, weights.output, s.logits);
        }
    }

    /** Shows the batch to the observer and, when static, gives it this input's scale; a null test each otherwise. */
    private void input(State s, int input, Activation[] x, int n) {
        if (s.observer != null) s.observer.observe(input, x, n);
        if (staticScales != null) for (int t = 0; t < n; t++) x[t].mode(ActivationMode.STATIC, staticScales[input]);
    }

    /**
     * Causal multi-head attention for a batch: token t (at position pos0+t) attends to positions
     * 0..pos0+t, query head h to KV head h / (heads / kvHeads). Work units are (token, head) pairs;
     * each thread has its own scratch. See {@link Attention} for the two arithmetics.
     */
    private final class AttentionJob implements ThreadPool.RangeTask {
        private final State s;
        private int layer, pos0, n;
        private boolean tiled;
        /** The tiled path's first step, one KV head per unit: the layer's keys so far, transposed. */
        private final ThreadPool.RangeTask transpose = this::transposeKeys;

        AttentionJob(State s) {
            this.s = s;
        }

        private void transposeKeys(int thread, int start, int end) {
            LlamaConfig c = config;
            for (int g = start; g < end; g++) {
                Attention.transposeKeys(s.cache.keys[layer], c.kvDim(), g * c.headDim(), c.headDim(), pos0 + n, s.keysT[g], keysRow());
            }
        }

        private int keysRow() {
            return Attention.padded(s.cache.capacity);
        }

        void attend(int layer, int pos0, int n) {
            this.layer = layer;
            this.pos0 = pos0;
            this.n = n;
            this.tiled = n >= Attention.TILED_BATCH;
            if (tiled) {
                if (s.keysT == null) s.keysT = new float[config.kvHeads()][config.headDim() * keysRow()];
                pool.parallelFor(config.kvHeads(), 1, transpose);
            }
            pool.parallelFor(n * headUnits(), 1, this);
        }

        /**
         * Units of work per token: its heads, or in the tiled path, pairs of heads that share a KV
         * head (Attention.singlePrecisionPair: each value loaded once for both, 22-27% less time).
         */
        private int headUnits() {
            return paired() ? config.heads() / 2 : config.heads();
        }

        private boolean paired() {
            return tiled && (config.heads() / config.kvHeads()) % 2 == 0;
        }

        @Override
        public void run(int thread, int start, int end) {
            LlamaConfig c = config;
            int hd = c.headDim(), kvDim = c.kvDim(), group = c.heads() / c.kvHeads();
            if (s.keysF[thread] == null) {
                s.keysF[thread] = new float[s.cache.capacity * kvDim];
                s.valuesF[thread] = new float[s.cache.capacity * kvDim];
            }
            float[] keys = s.keysF[thread], values = s.valuesF[thread];
            boolean[] converted = s.converted[thread];
            java.util.Arrays.fill(converted, false);
            float[][] scratch = s.headScratch[thread];
            float scale = 1f / (float) Math.sqrt(hd);
            int units = headUnits();
            boolean paired = paired();
            for (int u = start; u < end; u++) {
                // Tokens in the order 0, n−1, 1, n−2, …: a causal token's work grows with its position,
                // so contiguous chunks of this order cost the threads alike.
                int k = u / units, h = paired ? 2 * (u % units) : u % units;
                int t = (k & 1) == 0 ? k / 2 : n - 1 - k / 2;
                int qo = h * hd, kvo = (h / group) * hd, last = pos0 + t;
                if (!converted[h / group]) {
                    // The tiled path reads its keys from keysT, transposed from the cache already.
                    if (!tiled) s.cache.toFloats(s.cache.keys[layer], kvo, hd, pos0 + n, keys);
                    s.cache.toFloats(s.cache.values[layer], kvo, hd, pos0 + n, values);
                    converted[h / group] = true;
                }
                if (paired) {
                    Attention.singlePrecisionPair(s.q[t], qo, qo + hd, s.keysT[h / group], keysRow(), values, kvDim, kvo, hd, last, scale,
                            scratch[2], scratch[3], s.attnIn[t].f, qo, qo + hd);
                } else if (tiled) {
                    Attention.singlePrecision(s.q[t], qo, s.keysT[h / group], keysRow(), values, kvDim, kvo, hd, last, scale,
                            scratch[2], s.attnIn[t].f, qo);
                } else {
                    Attention.decode(s.q[t], qo, keys, values, kvDim, kvo, hd, last, scale,
                            scratch[0], scratch[1], s.attnIn[t].f, qo);
                }
            }
        }
    }

    /**
     * The per-token work between a layer's matrix products, one parallel region per step over the
     * batch's tokens, which are independent here (a prompt's would otherwise run on one thread while
     * the others wait). A single token runs inline.
     */
    private final class TokenSteps implements ThreadPool.RangeTask {
        static final int ATTN_NORM = 0, QKV_ROPE = 1, ATTN_SUB_NORM = 2, ATTN_RESIDUAL_FFN_NORM = 3, SWIGLU = 4, FFN_RESIDUAL = 5;
        private final State s;
        private int step, layer, pos0;

        TokenSteps(State s) {
            this.s = s;
        }

        void run(int step, int layer, int pos0, int n) {
            this.step = step;
            this.layer = layer;
            this.pos0 = pos0;
            pool.parallelFor(n, 1, this);
        }

        @Override
        public void run(int thread, int start, int end) {
            LlamaConfig c = config;
            Weights.Layer w = weights.layers[layer];
            for (int t = start; t < end; t++) {
                switch (step) {
                    case ATTN_NORM -> rmsNorm(s.normed[t].f, s.x[t], w.attnNorm, c.rmsEps());
                    case QKV_ROPE -> {
                        addBias(s.q[t], w.bq);
                        addBias(s.k[t], w.bk);
                        addBias(s.v[t], w.bv);
                        rope(s.q[t], c.heads(), s.ropeCos[t], s.ropeSin[t]);
                        rope(s.k[t], c.kvHeads(), s.ropeCos[t], s.ropeSin[t]);
                        s.cache.store(layer, pos0 + t, s.k[t], s.v[t]);
                    }
                    case ATTN_SUB_NORM -> rmsNorm(s.attnIn[t].f, s.attnIn[t].f, w.attnSubNorm, c.rmsEps());
                    case ATTN_RESIDUAL_FFN_NORM -> {
                        add(s.x[t], s.delta[t]);
                        rmsNorm(s.normed[t].f, s.x[t], w.ffnNorm, c.rmsEps());
                    }
                    case SWIGLU -> {
                        Exp.swiglu(s.gate[t], s.gate[t], s.up[t], s.gate[t].length);
                        if (w.ffnSubNorm != null) rmsNorm(s.ffnIn[t].f, s.ffnIn[t].f, w.ffnSubNorm, c.rmsEps()); // bitnet
                    }
                    default -> add(s.x[t], s.delta[t]);
                }
            }
        }
    }

    /** out = x / rms(x) * weight; the mean square is summed in double, as llama.cpp does. */
    static void rmsNorm(float[] out, float[] x, float[] weight, float eps) {
        double ss = 0;
        for (float xi : x) ss += (double) xi * xi;
        float scale = 1f / (float) Math.sqrt((float) (ss / x.length) + eps);
        for (int i = 0; i < x.length; i++) out[i] = x[i] * scale * weight[i];
    }

    /**
     * cos/sin of pos·θ_i with θ_i = base^(−2i/ropeDim). The angle is built by repeated float
     * multiplication, as llama.cpp builds its rope cache, so our rotations match its bit patterns.
     */
    void ropeAngles(int pos, float[] cos, float[] sin) {
        float thetaScale = (float) Math.pow(config.ropeBase(), -2.0 / config.ropeDim());
        float theta = pos;
        for (int i = 0; i < cos.length; i++) {
            cos[i] = (float) Math.cos(theta);
            sin[i] = (float) Math.sin(theta);
            theta *= thetaScale;
        }
    }

    /**
     * Rotates each head's first ropeDim dimensions in pairs: adjacent pairs (2i, 2i+1) for llama
     * files (whose Q/K rows the converter permuted for this), halves (i, i+ropeDim/2) for NEOX.
     * The products are fused the way llama.cpp's compiled rope is, so rotations round alike.
     */
    void rope(float[] vec, int heads, float[] cos, float[] sin) {
        int hd = config.headDim(), half = cos.length;
        boolean neox = config.ropeNeox();
        for (int h = 0; h < heads; h++) {
            int o = h * hd;
            for (int i = 0; i < half; i++) {
                int a = neox ? o + i : o + 2 * i;
                int b = neox ? o + i + half : o + 2 * i + 1;
                float x0 = vec[a], x1 = vec[b];
                vec[a] = Math.fma(x0, cos[i], -(x1 * sin[i]));
                vec[b] = Math.fma(x0, sin[i], x1 * cos[i]);
            }
        }
    }

    static void addBias(float[] x, float[] bias) {
        if (bias != null) add(x, bias);
    }

    static void add(float[] x, float[] y) {
        for (int i = 0; i < x.length; i++) x[i] += y[i];
    }

}
