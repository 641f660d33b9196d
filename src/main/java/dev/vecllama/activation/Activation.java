package dev.vecllama.activation;

/**
 * An activation vector of length n in the form a weight format wants it: the float values (always
 * kept), and after {@link #prepare}, their int8 quantization. Each form's buffers are allocated the
 * first time a vector is prepared in it and reused for every token after: a prompt batch holds three
 * of these per token, and with every form's buffers up front they took 19 bytes an element, 90 MiB
 * for a 1.1B model's 512-token batch, where its Q4_K_M file uses 11 of them.
 *
 * <p>The row kernels read the int8 codes widened to 16 bits ({@link #wide}, {@link #evens}, {@link #odds},
 * {@link #nibbleEvens}, {@link #nibbleOdds}: 6 bytes an element); a batch's tokens that only the lane
 * kernels will see ({@link dev.vecllama.quant.TokenLanes}) are prepared without them, and drop them:
 * a read of codes left from an earlier token would then throw rather than give wrong sums.
 *
 * <p>Float kernels read {@link #rounded}. Layout of the quantized form: {@code q[i]} is element i; {@code scale[b]} the scale of block b
 * (element i = q[i] * scale[i / blockSize]); for Q8_K, {@code sums[g]} is the sum of q over the 16
 * elements of group g (i / 16), which k-quant kernels use to apply their block minimums cheaply.
 */
public final class Activation {
    public final int n;
    public final float[] f;
    /** f rounded to the kind's float precision (F16, BF16); f itself for F32. */
    public float[] rounded;
    /** The factor {@link #halfScaled} carries: 2^112, the f16 → f32 exponent rebias. */
    public static final float HALF_SCALE = 0x1p112f;

    /**
     * For F16: {@link #rounded} times {@link #HALF_SCALE}, the operand of the F16 kernel, whose
     * weights convert in two lane operations to their value divided by it (every product stays exact).
     */
    public float[] halfScaled;
    public byte[] q;
    /** q widened, and its even and odd elements (2k and 2k + 1 at k) widened: once here rather than in every row's dot product. */
    public short[] wide, evens, odds;
    /**
     * For Q8_K: evens and odds with each 128 elements' four runs of 32 taken in the order 0, 2, 1, 3,
     * the order in which Q4_K's 512-bit kernel finds them in 64 bytes of its codes (low nibbles: runs 0
     * and 2, high nibbles: runs 1 and 3).
     */
    public short[] nibbleEvens, nibbleOdds;
    public float[] scale;
    public short[] sums;
    /** For Q8_K: the sum of q over each 32 elements (sums, pairwise), as the k-quant kernels' minimums want it. */
    public int[] sums32;
    /** F16's and BF16's {@link #rounded}, kept apart from f. */
    private float[] roundedBuffer;
    private ActivationKind kind = ActivationKind.F32;
    private boolean quad;
    private ActivationMode mode = ActivationMode.DYNAMIC;
    private float staticScale;

    public Activation(int n) {
        this.n = n;
        this.f = new float[n];
        this.rounded = f;
    }

    /** The buffers of kind k (with the widened codes if {@code widened}), allocated the first time they are asked for. */
    private void allocate(ActivationKind k, boolean widened) {
        if (!widened) wide = evens = odds = nibbleEvens = nibbleOdds = null;
        if ((k == ActivationKind.F16 || k == ActivationKind.BF16) && roundedBuffer == null) roundedBuffer = new float[n];
        if (k == ActivationKind.F16 && halfScaled == null) halfScaled = new float[n];
        boolean int8 = k == ActivationKind.Q8_0 || k == ActivationKind.Q8_K;
        if (int8 && q == null) {
            q = new byte[n];
            scale = new float[(n + 31) / 32];
        }
        if (int8 && widened && wide == null) {
            wide = new short[n];
            evens = new short[(n + 1) / 2];
            odds = new short[(n + 1) / 2];
        }
        if (k == ActivationKind.Q8_K && sums == null) {
            sums = new short[(n + 15) / 16];
            sums32 = new int[(n + 31) / 32];
        }
        if (k == ActivationKind.Q8_K && widened && nibbleEvens == null) {
            nibbleEvens = new short[(n + 1) / 2];
            nibbleOdds = new short[(n + 1) / 2];
        }
    }

    public ActivationKind kind() {
        return kind;
    }

    /**
     * True when this vector is one of a batch's complete groups of 4 rows. llama.cpp's repacked
     * matmul (repack.cpp forward_mul_mat_one_chunk) multiplies those with its 4-row gemm kernel and
     * the rest with its gemv, and for some formats (Q4_K) the two sum their floats in different
     * orders; the kernels that mirror them read this to pick the order.
     */
    public boolean quad() {
        return quad;
    }

    /**
     * How {@link #prepare} fills the int8 kinds from now on; {@code staticScale} is used by
     * {@link ActivationMode#STATIC}. With {@link ActivationMode#F32} every kind is left as plain
     * floats, and the weight matrix sees the mismatch and computes in float.
     */
    public void mode(ActivationMode mode, float staticScale) {
        this.mode = mode;
        this.staticScale = staticScale;
    }

    /** Converts {@link #f} into {@code k}'s form; {@code n} must be a multiple of k's block size. */
    public Activation prepare(ActivationKind k) {
        return prepare(k, false, true);
    }

    /**
     * {@link #prepare(ActivationKind)} for a batch row; {@code quad}: see {@link #quad()};
     * {@code widened}: whether a row kernel will read it.
     */
    public Activation prepare(ActivationKind k, boolean quad, boolean widened) {
        if (mode == ActivationMode.F32) k = ActivationKind.F32;
        boolean fixed = mode == ActivationMode.STATIC;
        allocate(k, widened);
        rounded = k == ActivationKind.F16 || k == ActivationKind.BF16 ? roundedBuffer : f;
        switch (k) {
            case F32 -> { } // rounded is f
            case F16 -> {
                ActivationQuantizer.roundToF16(f, rounded, n);
                for (int i = 0; i < n; i++) halfScaled[i] = rounded[i] * HALF_SCALE;
            }
            case BF16 -> ActivationQuantizer.roundToBF16(f, rounded, n);
            case Q8_0 -> {
                if (fixed) StaticQuantizer.quantizeQ8_0(f, n, staticScale, q, scale);
                else ActivationQuantizer.quantizeQ8_0(f, n, q, scale);
            }
            case Q8_K -> {
                if (fixed) StaticQuantizer.quantizeQ8_K(f, n, staticScale, q, scale, sums);
                else ActivationQuantizer.quantizeQ8_K(f, n, q, scale, sums);
            }
        }
        if (k == ActivationKind.Q8_K) {
            for (int j = 0; j < n / 32; j++) sums32[j] = sums[2 * j] + sums[2 * j + 1];
        }
        if (widened && (k == ActivationKind.Q8_0 || k == ActivationKind.Q8_K)) {
            ActivationQuantizer.widen(q, n, wide, evens, odds);
        }
        if (widened && k == ActivationKind.Q8_K) {
            for (int run = 0; run < n / 32; run++) {
                int r = run % 4, to = 16 * (run - r + 2 * (r & 1) + (r >> 1));
                System.arraycopy(evens, 16 * run, nibbleEvens, to, 16);
                System.arraycopy(odds, 16 * run, nibbleOdds, to, 16);
            }
        }
        kind = k;
        this.quad = quad;
        return this;
    }
}
