package dev.vecllama.quant;

import dev.vecllama.gguf.GGMLType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Float weights → one packed tensor type. For ggml's types, implementations follow llama.cpp's
 * reference quantizers (quantize_row_*_ref, used by llama-quantize when no importance matrix is given)
 * step for step, in the same float arithmetic, so the blocks they write are the blocks llama.cpp
 * writes; {@link NF4} is vecllama's own. They keep no state and may be called from several threads at once.
 */
public interface RowQuantizer {
    GGMLType type();

    /** Quantizes the row {@code x[off .. off+n)} ({@code n} a multiple of the block size) into {@code dst[at ..]}. */
    void quantize(float[] x, int off, int n, MemorySegment dst, long at);

    /** The quantizer for {@code t}, or a one-line error naming the types we can write. */
    static RowQuantizer of(GGMLType t) {
        return switch (t) {
            case Q8_0 -> Q8_0Quantizer.INSTANCE;
            case Q4_0 -> Q4_0Quantizer.INSTANCE;
            case Q4_K -> Q4_KQuantizer.INSTANCE;
            case Q6_K -> Q6_KQuantizer.INSTANCE;
            case TQ1_0 -> TernaryQuantizer.TQ1_0;
            case TQ2_0 -> TernaryQuantizer.TQ2_0;
            case NF4 -> NF4.INSTANCE;
            case NF4_DQ -> NF4.DOUBLE_QUANT;
            default -> throw new IllegalArgumentException("cannot quantize to " + t + " (supported: Q8_0, Q4_0, Q4_K, Q6_K, TQ1_0, TQ2_0, NF4, NF4_DQ)");
        };
    }

    ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static void putF16(MemorySegment dst, long at, float v) {
        dst.set(LE_SHORT, at, Float.floatToFloat16(v));
    }

    /** The value a stored f16 scale will have when read back; later rounding decisions use it, as in ggml. */
    static float roundF16(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }

    /** ggml's nearest_int: round half to even. */
    static int nearestInt(float v) {
        return (int) Math.rint(v);
    }
}
