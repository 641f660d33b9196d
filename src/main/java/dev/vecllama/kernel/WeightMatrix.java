package dev.vecllama.kernel;

import dev.vecllama.activation.Activation;
import dev.vecllama.gguf.GGUFFile;
import dev.vecllama.gguf.TensorInfo;
import dev.vecllama.quant.LaneKernel;
import dev.vecllama.quant.TokenLanes;
import dev.vecllama.quant.WeightFormat;
import java.lang.foreign.MemorySegment;

/**
 * A rows × cols matrix of one weight format, living where it lies in the mapped file (or, converted
 * on load, in memory the model owns). Row r is output r; its cols weights are contiguous (ggml's dims[0]).
 */
public final class WeightMatrix {
    /** Weight rows walked together across a token tile: a few KiB, so they stay in L1. */
    private static final int ROW_GROUP = 4;

    public final String name;
    public final int rows;
    public final int cols;
    public final WeightFormat format;
    public final MemorySegment data;
    public final long rowBytes;

    public WeightMatrix(String name, int rows, int cols, WeightFormat format, MemorySegment data) {
        this.name = name;
        this.rows = rows;
        this.cols = cols;
        this.format = format;
        this.data = data;
        this.rowBytes = format.rowBytes(cols);
    }

    public static WeightMatrix of(GGUFFile file, TensorInfo t) {
        if (t.dims().length > 2) {
            throw new IllegalArgumentException("tensor " + t.name() + " has " + t.dims().length + " dimensions, expected a matrix");
        }
        return new WeightMatrix(t.name(), Math.toIntExact(t.rows()), Math.toIntExact(t.cols()),
                WeightFormat.of(t.requireType()), file.tensorData(t));
    }

    /**
     * {@code out[t][r] = row r · x[t]} for tokens {@code t0 ≤ t < t1} and rows {@code r0 ≤ r < r1};
     * row-major over a small row group so each group of weight rows is reused across the tokens.
     * Until the format's vector kernel is compiled ({@link KernelWarmup}) its scalar twin runs:
     * the two agree bit for bit, so the switch changes the speed and nothing else. The tokens that
     * {@code lanes} holds (if it is not null; its first token is t0) go to the format's
     * {@link LaneKernel}, once that is compiled too: again the same bits, faster.
     */
    public void matmul(Activation[] x, TokenLanes lanes, int t0, int t1, float[][] out, int r0, int r1) {
        // Only --act-quant f32 leaves the input in another form than the format's: the float reference computes it.
        if (x[t0].kind() != format.activationKind()) {
            FloatReference.matmul(this, x, t0, t1, out, r0, r1);
            return;
        }
        if (!KernelWarmup.ready(format)) {
            for (int t = t0; t < t1; t++) format.matvecReference(data, rowBytes, cols, x[t], out[t], r0, r1);
            return;
        }
        if (lanes != null && format instanceof LaneKernel k && KernelWarmup.lanesReady(format)) {
            k.matmul(data, rowBytes, cols, lanes, out, r0, r1);
            t0 += lanes.tokens();
            if (t0 == t1) return;
        }
        if (t1 - t0 == 1) {
            format.matvec(data, rowBytes, cols, x[t0], out[t0], r0, r1);
            return;
        }
        for (int g = r0; g < r1; g += ROW_GROUP) {
            int ge = Math.min(r1, g + ROW_GROUP);
            for (int t = t0; t < t1; t++) format.matvec(data, rowBytes, cols, x[t], out[t], g, ge);
        }
    }

    public void dequantizeRow(int row, float[] dst, int dstOff) {
        format.dequantize(data, row * rowBytes, dst, dstOff, cols);
    }

    public long byteSize() {
        return rowBytes * rows;
    }
}
