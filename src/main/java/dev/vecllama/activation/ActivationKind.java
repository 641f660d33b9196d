package dev.vecllama.activation;

/**
 * The form a weight format wants its input vector in before a dot product. These mirror the
 * "vec_dot_type" pairing llama.cpp uses, so our numerics match the reference: F16 weights meet
 * f16-rounded activations, Q8_0/Q4_0 weights meet Q8_0 blocks, k-quants and ternary meet Q8_K blocks.
 */
public enum ActivationKind {
    /** Plain floats. */
    F32(1),
    /** Floats rounded to half precision (kept as float). */
    F16(1),
    /** Floats rounded to bfloat16 (kept as float). */
    BF16(1),
    /** Blocks of 32 int8 with one scale each (the scale rounded to f16, as in a stored Q8_0 block). */
    Q8_0(32),
    /** Blocks of 256 int8 with an f32 scale and 16 partial sums of 16 values each. */
    Q8_K(256);

    public final int blockSize;

    ActivationKind(int blockSize) {
        this.blockSize = blockSize;
    }
}
