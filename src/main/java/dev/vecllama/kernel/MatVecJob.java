package dev.vecllama.kernel;

import dev.vecllama.activation.Activation;

/**
 * Up to three matrix-vector products that share one input (Q/K/V, gate/up), run as one parallel
 * region over the union of their rows so that a single barrier covers them all. Reused for every
 * token: {@link #run} allocates nothing.
 */
public final class MatVecJob implements ThreadPool.RangeTask {
    /** Rows handed to a thread are multiples of this, so multi-row kernels see whole groups. */
    private static final int GRAIN = 4;

    private final ThreadPool pool;
    private final WeightMatrix[] w = new WeightMatrix[3];
    private final float[][] out = new float[3][];
    private int count;
    private Activation x;

    public MatVecJob(ThreadPool pool) {
        this.pool = pool;
    }

    /** out = w · x. */
    public void run(Activation x, WeightMatrix w0, float[] out0) {
        run(x, w0, out0, null, null, null, null);
    }

    public void run(Activation x, WeightMatrix w0, float[] out0, WeightMatrix w1, float[] out1) {
        run(x, w0, out0, w1, out1, null, null);
    }

    /** The products whose weights want the same activation form run together; others follow. */
    public void run(Activation x, WeightMatrix w0, float[] out0, WeightMatrix w1, float[] out1,
                    WeightMatrix w2, float[] out2) {
        this.x = x;
        count = 0;
        add(w0, out0);
        if (w1 != null) {
            if (w1.format.activationKind() != w0.format.activationKind()) {
                flush();
            }
            add(w1, out1);
        }
        if (w2 != null) {
            if (w2.format.activationKind() != w[count - 1].format.activationKind()) {
                flush();
            }
            add(w2, out2);
        }
        flush();
        this.x = null;
    }

    private void add(WeightMatrix m, float[] o) {
        w[count] = m;
        out[count] = o;
        count++;
    }

    private void flush() {
        x.prepare(w[0].format.activationKind());
        int rows = 0;
        for (int i = 0; i < count; i++) rows += w[i].rows;
        pool.parallelFor(rows, GRAIN, this);
        for (int i = 0; i < count; i++) {
            w[i] = null;
            out[i] = null;
        }
        count = 0;
    }

    @Override
    public void run(int start, int end) {
        int base = 0;
        for (int i = 0; i < count && start < end; i++) {
            int rows = w[i].rows;
            int s = Math.max(start, base), e = Math.min(end, base + rows);
            if (s < e) w[i].matvec(x, out[i], s - base, e - base);
            base += rows;
        }
    }
}
