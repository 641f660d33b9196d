package dev.vecllama.model;

import dev.vecllama.activation.Activation;
import dev.vecllama.kernel.MatVecJob;
import dev.vecllama.kernel.ThreadPool;

/**
 * The Llama-family transformer forward pass (llama, qwen2): pre-norm decoder blocks of
 * RMSNorm → grouped-query attention with rotary positions → residual, RMSNorm → SwiGLU FFN →
 * residual; a final RMSNorm and the output projection give the logits.
 */
public final class Llama {
    public final LlamaConfig config;
    public final Weights weights;
    private final ThreadPool pool;

    public Llama(LlamaConfig config, Weights weights, ThreadPool pool) {
        this.config = config;
        this.weights = weights;
        this.pool = pool;
    }

    /** Everything one sequence needs between tokens: its KV cache and the reused scratch buffers. */
    public final class State {
        public final KVCache cache;
        public final float[] logits;
        final float[] x, q, k, v, attnOut, ffnOut, gate, up, ropeCos, ropeSin;
        final Activation normed, attnIn, ffnIn;
        final float[][] scores;
        final MatVecJob matvec = new MatVecJob(pool);
        final AttentionJob attention = new AttentionJob(this);

        State(int contextLength) {
            LlamaConfig c = config;
            cache = new KVCache(c, contextLength);
            logits = new float[c.vocabSize()];
            x = new float[c.dim()];
            q = new float[c.qDim()];
            k = new float[c.kvDim()];
            v = new float[c.kvDim()];
            attnOut = new float[c.dim()];
            ffnOut = new float[c.dim()];
            gate = new float[c.ffnDim()];
            up = new float[c.ffnDim()];
            ropeCos = new float[c.ropeDim() / 2];
            ropeSin = new float[c.ropeDim() / 2];
            normed = new Activation(c.dim());
            attnIn = new Activation(c.qDim());
            ffnIn = new Activation(c.ffnDim());
            scores = new float[c.heads()][contextLength];
        }
    }

    public State newState(int contextLength) {
        return new State(contextLength);
    }

    /**
     * Runs token {@code token} at position {@code pos} (all earlier positions are in the cache) and,
     * when {@code wantLogits}, leaves the next-token logits in {@code s.logits}.
     */
    public void forward(State s, int token, int pos, boolean wantLogits) {
        LlamaConfig c = config;
        if (token < 0 || token >= c.vocabSize()) throw new IllegalArgumentException("token id " + token + " out of range");
        if (pos >= s.cache.capacity) throw new IllegalArgumentException("position " + pos + " is past the context size " + s.cache.capacity);

        weights.tokenEmbedding.dequantizeRow(token, s.x, 0);
        ropeAngles(pos, s.ropeCos, s.ropeSin);

        for (int l = 0; l < c.layers(); l++) {
            Weights.Layer w = weights.layers[l];

            // attention
            rmsNorm(s.normed.f, s.x, w.attnNorm, c.rmsEps());
            s.matvec.run(s.normed, w.wq, s.q, w.wk, s.k, w.wv, s.v);
            addBias(s.q, w.bq);
            addBias(s.k, w.bk);
            addBias(s.v, w.bv);
            rope(s.q, c.heads(), s.ropeCos, s.ropeSin);
            rope(s.k, c.kvHeads(), s.ropeCos, s.ropeSin);
            s.cache.store(l, pos, s.k, s.v);
            s.attention.attend(l, pos);
            s.matvec.run(s.attnIn, w.wo, s.attnOut);
            add(s.x, s.attnOut);

            // feed-forward
            rmsNorm(s.normed.f, s.x, w.ffnNorm, c.rmsEps());
            s.matvec.run(s.normed, w.gate, s.gate, w.up, s.up);
            swiglu(s.ffnIn.f, s.gate, s.up);
            s.matvec.run(s.ffnIn, w.down, s.ffnOut);
            add(s.x, s.ffnOut);
        }

        if (wantLogits) {
            rmsNorm(s.normed.f, s.x, weights.outputNorm, c.rmsEps());
            s.matvec.run(s.normed, weights.output, s.logits);
        }
    }

    /** Multi-head attention of the current query over positions 0..pos, one head per task unit. */
    private final class AttentionJob implements ThreadPool.RangeTask {
        private final State s;
        private int layer, pos;

        AttentionJob(State s) {
            this.s = s;
        }

        void attend(int layer, int pos) {
            this.layer = layer;
            this.pos = pos;
            pool.parallelFor(config.heads(), 1, this);
        }

        @Override
        public void run(int h0, int h1) {
            LlamaConfig c = config;
            int hd = c.headDim(), kvDim = c.kvDim(), group = c.heads() / c.kvHeads();
            float[] keys = s.cache.keys[layer], values = s.cache.values[layer];
            float scale = (float) (1.0 / Math.sqrt(hd));
            for (int h = h0; h < h1; h++) {
                int qo = h * hd, kvo = (h / group) * hd;
                float[] att = s.scores[h];
                float max = Float.NEGATIVE_INFINITY;
                for (int t = 0; t <= pos; t++) {
                    float dot = 0;
                    int ko = t * kvDim + kvo;
                    for (int i = 0; i < hd; i++) dot += s.q[qo + i] * keys[ko + i];
                    att[t] = dot * scale;
                    max = Math.max(max, att[t]);
                }
                double sum = 0;
                for (int t = 0; t <= pos; t++) {
                    att[t] = (float) Math.exp(att[t] - max);
                    sum += att[t];
                }
                float inv = (float) (1.0 / sum);
                float[] out = s.attnIn.f;
                java.util.Arrays.fill(out, qo, qo + hd, 0f);
                for (int t = 0; t <= pos; t++) {
                    float a = att[t] * inv;
                    int vo = t * kvDim + kvo;
                    for (int i = 0; i < hd; i++) out[qo + i] += a * values[vo + i];
                }
            }
        }
    }

    /** out = x / rms(x) * weight; the mean square is summed in double, as llama.cpp does. */
    static void rmsNorm(float[] out, float[] x, float[] weight, float eps) {
        double ss = 0;
        for (float xi : x) ss += (double) xi * xi;
        float scale = (float) (1.0 / Math.sqrt((float) (ss / x.length) + eps));
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
                vec[a] = x0 * cos[i] - x1 * sin[i];
                vec[b] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }

    static void addBias(float[] x, float[] bias) {
        if (bias != null) add(x, bias);
    }

    static void add(float[] x, float[] y) {
        for (int i = 0; i < x.length; i++) x[i] += y[i];
    }

    /** out = silu(gate) * up, silu(g) = g / (1 + e^−g). */
    static void swiglu(float[] out, float[] gate, float[] up) {
        for (int i = 0; i < out.length; i++) {
            float g = gate[i];
            out[i] = g / (1f + (float) Math.exp(-g)) * up[i];
        }
    }
}
