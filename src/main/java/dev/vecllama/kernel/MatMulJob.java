package dev.vecllama.kernel;

import dev.vecllama.activation.Activation;
import dev.vecllama.activation.ActivationKind;
import dev.vecllama.quant.LaneKernel;
import dev.vecllama.quant.TokenLanes;

/**
 * Up to three matrix products that share one input batch (Q/K/V, gate/up), run as one parallel
 * region over the union of their rows, so a single barrier covers them all. For each of
 * {@code tokens} input rows, {@code out[m][t][r] = W_m[r] · x[t]}. Work is tiled: a thread takes a
 * contiguous range of weight rows and walks it once per tile of tokens, so each weight row is read
 * from memory once per tile and reused from cache for every token in it. Reused for every call;
 * nothing is allocated.
 */
public final class MatMulJob implements ThreadPool.RangeTask {
    /** Rows handed to a thread are multiples of this, so multi-row kernels see whole groups (Q4_K's decode takes 8). */
    private static final int GRAIN = 8;
    /**
     * Chunks per thread for a batch too small for lane kernels (decode): a thread done with its own
     * takes over another's unstarted ones. With one each, both threads of a 1.1B Q4_K_M decode at 2
     * threads spent a fifth to a quarter of their samples waiting (JFR), the caller for the worker
     * at the end of a product, the worker for the next. Prompts keep one: each chunk transposes its
     * tile of activations again ({@link TokenLanes#fill}).
     */
    private static final int DECODE_CHUNKS = 4;
    /**
     * Tokens per tile of a product without a lane kernel (ready): their quantized activations stay in
     * cache while a row range streams past. With lane kernels, a region's tile is the smallest its
     * kernels ask for ({@link LaneKernel#tokenTile}).
     */
    private static final int TOKEN_TILE = 64;

    private final ThreadPool pool;
    /** Per thread: the current tile transposed, when a product of this region has a lane kernel. */
    private final TokenLanes[] lanes;
    private final WeightMatrix[] w = new WeightMatrix[3];
    private final float[][][] out = new float[3][][];
    private int count;
    private Activation[] x;
    private int tokens;
    private ActivationKind preparing;
    /** The first token a row kernel will read: the ones before it go to lane kernels only. */
    private int rowKernelsFrom;
    /**
     * Quantizes the batch's activations, a share of the tokens per thread. Like llama.cpp's
     * forward_mul_mat, rows in complete groups of 4 are marked for its 4-row gemm order (the int8
     * values are the same: ggml_quantize_mat_q8_K_4x8 may pick the opposite sign for a block's
     * scale, which negates both the quants and the scale and leaves every product as it was).
     */
    private final ThreadPool.RangeTask prepare = (thread, start, end) -> {
        int quads = tokens - tokens % 4;
        for (int t = start; t < end; t++) x[t].prepare(preparing, t < quads, t >= rowKernelsFrom);
    };

    public MatMulJob(ThreadPool pool) {
        this.pool = pool;
        this.lanes = new TokenLanes[pool.threads()];
        for (int i = 0; i < lanes.length; i++) lanes[i] = new TokenLanes();
    }

    public void run(Activation[] x, int tokens, WeightMatrix w0, float[][] out0) {
        run(x, tokens, w0, out0, null, null, null, null);
    }

    public void run(Activation[] x, int tokens, WeightMatrix w0, float[][] out0, WeightMatrix w1, float[][] out1) {
        run(x, tokens, w0, out0, w1, out1, null, null);
    }

    /** Products whose weights want the same activation form run together; a change of form starts a new region. */
    public void run(Activation[] x, int tokens, WeightMatrix w0, float[][] out0, WeightMatrix w1, float[][] out1,
                    WeightMatrix w2, float[][] out2) {
        this.x = x;
        this.tokens = tokens;
        add(w0, out0);
        if (w1 != null) add(w1, out1);
        if (w2 != null) add(w2, out2);
        flush();
        this.x = null;
    }

    private void add(WeightMatrix m, float[][] o) {
        if (count > 0 && m.format.activationKind() != w[count - 1].format.activationKind()) flush();
        w[count] = m;
        out[count] = o;
        count++;
    }

    private void flush() {
        preparing = w[0].format.activationKind();
        // Lane kernels that are not ready now may be by the time the products run; the other way round never happens.
        boolean lanesOnly = true;
        for (int i = 0; i < count; i++) lanesOnly &= laneKernelReady(w[i]);
        rowKernelsFrom = lanesOnly ? TokenLanes.tokensTaken(tokens) : 0;
        pool.parallelFor(tokens, 1, prepare);
        int rows = 0;
        for (int i = 0; i < count; i++) rows += w[i].rows;
        pool.parallelFor(rows, GRAIN, tokens < TokenLanes.WIDTH ? DECODE_CHUNKS : 1, this);
        for (int i = 0; i < count; i++) {
            w[i] = null;
            out[i] = null;
        }
        count = 0;
    }

    /** Whether m's format has a lane kernel and it is compiled. */
    private static boolean laneKernelReady(WeightMatrix m) {
        return m.format instanceof LaneKernel && KernelWarmup.lanesReady(m.format);
    }

    @Override
    public void run(int thread, int start, int end) {
        boolean laneKernels = false, floats = false, pairs = false;
        int tokenTile = Integer.MAX_VALUE;
        for (int i = 0; i < count; i++) {
            boolean lanes = laneKernelReady(w[i]);
            laneKernels |= lanes;
            tokenTile = Math.min(tokenTile, lanes ? ((LaneKernel) w[i].format).tokenTile() : TOKEN_TILE);
            if (lanes && ((LaneKernel) w[i].format).readsPairs()) pairs = true;
            else if (lanes) floats = true;
        }
        for (int t0 = 0; t0 < tokens; t0 += tokenTile) {
            int t1 = Math.min(tokens, t0 + tokenTile);
            TokenLanes tile = laneKernels && start < end && lanes[thread].fill(x, t0, t1, floats, pairs) > 0 ? lanes[thread] : null;
            int base = 0;
            for (int i = 0; i < count && start < end; i++) {
                int rows = w[i].rows;
                int s = Math.max(start, base), e = Math.min(end, base + rows);
                if (s < e) w[i].matmul(x, tile, t0, t1, out[i], s - base, e - base);
                base += rows;
            }
        }
    }
}
