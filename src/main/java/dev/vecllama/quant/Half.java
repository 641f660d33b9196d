package dev.vecllama.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * 16-bit floats in the mapped file: IEEE half (f16) and bfloat16, read one at a time or a vector at a
 * time. The Vector API (JDK 25) has no half-float conversion, so {@link #f16s} does it with integer
 * lane operations.
 */
final class Half {
    private Half() {}

    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    // Eight lanes: the f16/bf16 kernels mirror llama.cpp's 8-lane (or 2 × 8-lane) accumulators.
    private static final VectorSpecies<Integer> INTS = VectorMath.I8;
    private static final VectorSpecies<Float> FLOATS = VectorMath.F8;
    private static final VectorSpecies<Short> HALVES = ShortVector.SPECIES_128;
    private static final IntVector SIGN_EXPONENT_MANTISSA = IntVector.broadcast(INTS, 0x8FFFE000);
    /** An f16 exponent of all ones (inf, NaN), in f32 position before rebiasing. */
    private static final IntVector F16_EXPONENT = IntVector.broadcast(INTS, 0x0F800000);
    private static final IntVector F32_EXPONENT = IntVector.broadcast(INTS, 0x7F800000);
    private static final FloatVector REBIAS = FloatVector.broadcast(FLOATS, 0x1p112f);

    static float f16(MemorySegment w, long off) {
        return Float.float16ToFloat(w.get(LE_SHORT, off));
    }

    static float bf16(MemorySegment w, long off) {
        return Float.intBitsToFloat(w.get(LE_SHORT, off) << 16);
    }

    /** 8 f16 values at {@code off} as floats; exact, including subnormals, inf and NaN. */
    static FloatVector f16s(MemorySegment w, long off) {
        IntVector h = load(w, off);
        // Sign-extended, shifted by 13: sign at bit 31, exponent and mantissa where f32 keeps them, and
        // copies of the sign in bits 28..30 that the mask clears. The multiply then does the rebias.
        IntVector x = h.lanewise(VectorOperators.LSHL, 13).and(SIGN_EXPONENT_MANTISSA);
        IntVector f = (IntVector) ((FloatVector) x.reinterpretShape(FLOATS, 0)).mul(REBIAS).reinterpretShape(INTS, 0);
        return (FloatVector) f.blend(f.or(F32_EXPONENT), x.and(F16_EXPONENT).eq(F16_EXPONENT)).reinterpretShape(FLOATS, 0);
    }

    /** 8 bf16 values at {@code off} as floats: bf16 is the high half of an f32. */
    static FloatVector bf16s(MemorySegment w, long off) {
        return (FloatVector) load(w, off).lanewise(VectorOperators.LSHL, 16).reinterpretShape(FLOATS, 0);
    }

    private static IntVector load(MemorySegment w, long off) {
        return (IntVector) ShortVector.fromMemorySegment(HALVES, w, off, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.S2I, INTS, 0);
    }
}
