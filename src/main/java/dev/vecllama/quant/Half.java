package dev.vecllama.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * 16-bit floats in the mapped file: IEEE half (f16) and bfloat16, read one at a time or a vector at a
 * time. The Vector API (JDK 25) has no half-float conversion, so {@link #f16s} does it with integer
 * lane operations.
 */
final class Half {
    private Half() {}

    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static final IntVector SIGN_EXPONENT_MANTISSA = IntVector.broadcast(VectorMath.INTS, 0x8FFFE000);
    /** An f16 exponent of all ones (inf, NaN), in f32 position before rebiasing. */
    private static final IntVector F16_EXPONENT = IntVector.broadcast(VectorMath.INTS, 0x0F800000);
    private static final IntVector F32_EXPONENT = IntVector.broadcast(VectorMath.INTS, 0x7F800000);
    private static final FloatVector REBIAS = FloatVector.broadcast(VectorMath.FLOATS, 0x1p112f);

    static float f16(MemorySegment w, long off) {
        return Float.float16ToFloat(w.get(LE_SHORT, off));
    }

    static float bf16(MemorySegment w, long off) {
        return Float.intBitsToFloat(w.get(LE_SHORT, off) << 16);
    }

    /** {@code FLOATS.length()} f16 values at {@code off} as floats; exact, including subnormals, inf and NaN. */
    static FloatVector f16s(MemorySegment w, long off) {
        IntVector h = load(w, off);
        // Sign-extended, shifted by 13: sign at bit 31, exponent and mantissa where f32 keeps them, and
        // copies of the sign in bits 28..30 that the mask clears. The multiply then does the rebias.
        IntVector x = h.lanewise(VectorOperators.LSHL, 13).and(SIGN_EXPONENT_MANTISSA);
        IntVector f = (IntVector) ((FloatVector) x.reinterpretShape(VectorMath.FLOATS, 0)).mul(REBIAS).reinterpretShape(VectorMath.INTS, 0);
        return (FloatVector) f.blend(f.or(F32_EXPONENT), x.and(F16_EXPONENT).eq(F16_EXPONENT)).reinterpretShape(VectorMath.FLOATS, 0);
    }

    /** {@code FLOATS.length()} bf16 values at {@code off} as floats: bf16 is the high half of an f32. */
    static FloatVector bf16s(MemorySegment w, long off) {
        return (FloatVector) load(w, off).lanewise(VectorOperators.LSHL, 16).reinterpretShape(VectorMath.FLOATS, 0);
    }

    private static IntVector load(MemorySegment w, long off) {
        return (IntVector) ShortVector.fromMemorySegment(VectorMath.HALVES, w, off, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.S2I, VectorMath.INTS, 0);
    }
}
