package dev.vecllama.kernel;

import dev.vecllama.activation.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float reference for any weight format ({@code --act-quant f32}): each weight row is
 * dequantized into a per-thread scratch row once and dotted with every token's unquantized
 * activation, so the only error left is the weights' own. Meant for measuring, not for speed.
 */
final class FloatReference {
    private static final VectorSpecies<Float> S = VectorWidth.FLOATS;
    private static final ThreadLocal<float[]> ROW = ThreadLocal.withInitial(() -> new float[0]);

    private FloatReference() {}

    static void matmul(WeightMatrix m, Activation[] x, int t0, int t1, float[][] out, int r0, int r1) {
        float[] row = ROW.get();
        if (row.length < m.cols) ROW.set(row = new float[m.cols]);
        for (int r = r0; r < r1; r++) {
            m.dequantizeRow(r, row, 0);
            for (int t = t0; t < t1; t++) out[t][r] = dot(row, x[t].f, m.cols);
        }
    }

    private static float dot(float[] a, float[] b, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i <= n - S.length(); i += S.length()) acc = FloatVector.fromArray(S, a, i).fma(FloatVector.fromArray(S, b, i), acc);
        float s = acc.reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
        for (; i < n; i++) s = Math.fma(a[i], b[i], s);
        return s;
    }
}
