package dev.vecllama.quant;

import dev.vecllama.activation.Activation;
import dev.vecllama.activation.ActivationKind;
import dev.vecllama.gguf.GGMLType;
import java.lang.foreign.MemorySegment;

/**
 * One weight format: its block layout, the activation form its dot product wants, a scalar
 * reference and the fast path, side by side in the implementing class. Weights are read where they
 * lie in the mapped file; {@code offset} is a byte offset into {@code w} and {@code n} a multiple
 * of the block size.
 */
public interface WeightFormat {
    /** The tensor type this format reads: one of ggml's, or one of vecllama's own ({@link NF4}). */
    GGMLType type();

    /** Bytes one row of {@code cols} weights takes (cols a multiple of the block size); every matrix sizes its rows through this. */
    default long rowBytes(long cols) {
        return type().rowBytes(cols);
    }

    /** The form {@link Activation#prepare} must have put the input in before {@link #dot}. */
    ActivationKind activationKind();

    /** Scalar dequantization of {@code n} weights into {@code dst[dstOff ..]}. */
    void dequantize(MemorySegment w, long offset, float[] dst, int dstOff, int n);

    /** Scalar reference: the dot of {@code n} weights with {@code a}'s first n elements. */
    float dotReference(MemorySegment w, long offset, Activation a, int n);

    /** The fast dot product; agrees with {@link #dotReference} up to float summation order. */
    float dot(MemorySegment w, long offset, Activation a, int n);

    /**
     * {@code out[r] = dot(row r, a)} for rows {@code r0 ≤ r < r1} of a row-major matrix whose rows
     * are {@code rowBytes} apart. Formats override this when several rows at once are faster.
     */
    default void matvec(MemorySegment w, long rowBytes, int cols, Activation a, float[] out, int r0, int r1) {
        for (int r = r0; r < r1; r++) out[r] = dot(w, r * rowBytes, a, cols);
    }

    /** {@link #matvec} by {@link #dotReference}: what runs until the vector kernels are compiled. */
    default void matvecReference(MemorySegment w, long rowBytes, int cols, Activation a, float[] out, int r0, int r1) {
        for (int r = r0; r < r1; r++) out[r] = dotReference(w, r * rowBytes, a, cols);
    }

    /** The implementation for a type, or a one-line error for types we cannot compute with. */
    static WeightFormat of(GGMLType t) {
        return Formats.of(t);
    }
}
