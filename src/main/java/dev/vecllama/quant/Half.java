package dev.vecllama.quant;

import dev.vecllama.activation.Activation;
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
 * time. The Vector API (JDK 25) has no half-float conversion, so {@link #f16sScaled} does it with
 * integer lane operations.
 */
final class Half {
    private Half() {}

    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    // Eight lanes: the f16/bf16 kernels mirror llama.cpp's 8-lane (or 2 × 8-lane) accumulators.
    private static final VectorSpecies<Integer> INTS = VectorMath.I8;
    private static final VectorSpecies<Float> FLOATS = VectorMath.F8;
    private static final VectorSpecies<Short> HALVES = ShortVector.SPECIES_128;
    private static final IntVector SIGN_EXPONENT_MANTISSA = IntVector.broadcast(INTS, 0x8FFFE000);

    static float f16(MemorySegment w, long off) {
        return Float.float16ToFloat(w.get(LE_SHORT, off));
    }

    private static final VectorSpecies<Short> FOUR_HALVES = ShortVector.SPECIES_64;

    /**
     * The f16 at {@code off}, read as lane 0 of an 8-byte vector load: in a kernel's inner loop a
     * scalar read from a mapped segment costs several times a vector one (its access checks stay in
     * the loop). The 6 bytes after the value must lie in the same block, as a block's leading scale does.
     */
    static float f16Head(MemorySegment w, long off) {
        return Float.float16ToFloat(ShortVector.fromMemorySegment(FOUR_HALVES, w, off, ByteOrder.LITTLE_ENDIAN).lane(0));
    }

    /** {@link #f16Head} for a value that ends its block: the load covers the 6 bytes before it. */
    static float f16Tail(MemorySegment w, long off) {
        return Float.float16ToFloat(ShortVector.fromMemorySegment(FOUR_HALVES, w, off - 6, ByteOrder.LITTLE_ENDIAN).lane(3));
    }

    static float bf16(MemorySegment w, long off) {
        return Float.intBitsToFloat(w.get(LE_SHORT, off) << 16);
    }

    /**
     * The factor between an f16 value and what {@link #f16sScaled} reads for it. Multiplying the
     * activations by it instead of every weight keeps the conversion to two lane operations.
     */
    static final float F16_SCALE = Activation.HALF_SCALE;

    /**
     * 8 f16 values at {@code off} as floats divided by {@link #F16_SCALE}: exactly, for every finite
     * value including subnormals (their f32 images are subnormal or normal floats, both exact), so a
     * product with an activation pre-multiplied by F16_SCALE equals the plain product bit for bit.
     * An f16 infinity or NaN reads as a large finite value instead; no usable model holds one.
     */
    static FloatVector f16sScaled(MemorySegment w, long off) {
        // Sign-extended, shifted by 13: sign at bit 31, exponent and mantissa where f32 keeps them
        // (unbiased by 112), and copies of the sign in bits 28..30 that the mask clears.
        return (FloatVector) load(w, off).lanewise(VectorOperators.LSHL, 13).and(SIGN_EXPONENT_MANTISSA).reinterpretShape(FLOATS, 0);
    }

    /** 8 bf16 values at {@code off} as floats: bf16 is the high half of an f32. */
    static FloatVector bf16s(MemorySegment w, long off) {
        return (FloatVector) load(w, off).lanewise(VectorOperators.LSHL, 16).reinterpretShape(FLOATS, 0);
    }

    // Sixteen lanes, where the vectors are that wide: twice the weights per operation, same bits.
    private static final VectorSpecies<Short> HALVES16 = ShortVector.SPECIES_256;
    private static final VectorSpecies<Integer> INTS16 = IntVector.SPECIES_512;
    private static final VectorSpecies<Float> FLOATS16 = FloatVector.SPECIES_512;
    private static final IntVector SIGN_EXPONENT_MANTISSA16 = IntVector.broadcast(INTS16, 0x8FFFE000);

    /** {@link #f16sScaled} of 16 values, in one 512-bit vector. */
    static FloatVector f16sScaled16(MemorySegment w, long off) {
        return (FloatVector) load16(w, off).lanewise(VectorOperators.LSHL, 13).and(SIGN_EXPONENT_MANTISSA16).reinterpretShape(FLOATS16, 0);
    }

    private static final IntVector F16_EXPONENT16 = IntVector.broadcast(INTS16, 0x7C00), F32_EXPONENT_REST16 = IntVector.broadcast(INTS16, 0x70000000);

    /**
     * 16 sign-extended f16 bit patterns as exactly the floats {@link Float#float16ToFloat} gives,
     * infinities and NaNs included: {@link #f16sScaled16}'s shift and mask, whose finite values read
     * 2^112 times too small, times 2^112 (exact: the product is a normal float), and for an all-ones
     * exponent the f32 exponent bits the shift could not reach. For scales that are converted once per
     * block (Q4_K's d and dmin), not per weight.
     */
    static FloatVector f16s16(IntVector halves) {
        IntVector bits = halves.lanewise(VectorOperators.LSHL, 13).and(SIGN_EXPONENT_MANTISSA16);
        return bits.reinterpretAsFloats().mul(0x1p112f).blend(bits.or(F32_EXPONENT_REST16).reinterpretAsFloats(),
                halves.and(F16_EXPONENT16).compare(VectorOperators.EQ, F16_EXPONENT16).cast(FLOATS16));
    }

    /** {@link #bf16s} of 16 values, in one 512-bit vector. */
    static FloatVector bf16s16(MemorySegment w, long off) {
        return (FloatVector) load16(w, off).lanewise(VectorOperators.LSHL, 16).reinterpretShape(FLOATS16, 0);
    }

    /**
     * The 16-bit values at {@code off}, sign-extended into int lanes, one per value. One helper per
     * width, not one taking the species: a helper that sees both widths shares one type profile and,
     * if C2 does not inline it, runs the Java fallback (see VectorMath on the third limit).
     */
    private static IntVector load(MemorySegment w, long off) {
        return (IntVector) ShortVector.fromMemorySegment(HALVES, w, off, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.S2I, INTS, 0);
    }

    /** {@link #load} at 16 lanes. */
    private static IntVector load16(MemorySegment w, long off) {
        return (IntVector) ShortVector.fromMemorySegment(HALVES16, w, off, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.S2I, INTS16, 0);
    }
}
