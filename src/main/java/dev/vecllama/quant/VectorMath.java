package dev.vecllama.quant;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector width the kernels of this package use, and the integer building blocks they share.
 *
 * <p>The width is fixed once per JVM and held in static finals because C2 only intrinsifies vector
 * operations whose species is a compile-time constant; a species read from an instance field would
 * silently fall back to the (100× slower) Java implementation. It is the platform's preferred width
 * unless {@code -Dvecllama.vector.bits=512|256|128} asks for another: that is how the tests run the
 * same kernels at all three widths, each in its own JVM.
 *
 * <p>Integer dot products multiply int8 × int8 (or nibble × int8) in 16-bit lanes, where no product
 * overflows, then fold adjacent lanes into int32 ({@link #pairSum}). Float scales are applied once per
 * block or sub-block, never per element.
 *
 * <p>Two C2 limits shape the kernels; an operation that misses either is not intrinsified and falls
 * back to a path a hundred times slower. Each Vector API call is about ten inlining levels deep and C2
 * stops at 15 ({@code MaxInlineLevel}), so a kernel is at most its dot, one helper, and a helper from
 * here, and uses vector constants rather than scalar-operand overloads, which cost levels. And C2 stops
 * inlining after about 18,000 parsed nodes, which a few dozen vector operations reach, so repeated
 * work inside a block is written as a loop (parsed once) rather than unrolled by hand.
 */
final class VectorMath {
    private VectorMath() {}

    static final int BITS = chosenBits();

    static final VectorSpecies<Float> FLOATS = VectorSpecies.of(float.class, VectorShape.forBitSize(BITS));
    static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, VectorShape.forBitSize(BITS));
    static final VectorSpecies<Short> SHORTS = VectorSpecies.of(short.class, VectorShape.forBitSize(BITS));
    /** As many bytes as {@link #SHORTS} has lanes: the int8 loads that widen into one short vector. */
    static final VectorSpecies<Byte> BYTES = VectorSpecies.of(byte.class, VectorShape.forBitSize(BITS / 2));
    /** As many 16-bit lanes as {@link #FLOATS} has: the f16/bf16 loads that widen into one float vector. */
    static final VectorSpecies<Short> HALVES = VectorSpecies.of(short.class, VectorShape.forBitSize(BITS / 2));

    private static int chosenBits() {
        int bits = Integer.getInteger("vecllama.vector.bits", VectorShape.preferredShape().vectorBitSize());
        if (bits != 128 && bits != 256 && bits != 512) {
            throw new IllegalStateException("vecllama.vector.bits must be 128, 256 or 512, not " + bits);
        }
        return bits;
    }

    static final ShortVector LOW_NIBBLE = ShortVector.broadcast(SHORTS, (short) 0x0F);

    /** {@code SHORTS.length()} unsigned bytes at {@code off}, widened: where packed codes are unpacked. */
    static ShortVector uint8(MemorySegment w, long off) {
        return (ShortVector) ByteVector.fromMemorySegment(BYTES, w, off, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
    }

    /** Sign-extends the lanes of {@code b} into {@code shorts}, which has as many lanes. */
    static ShortVector widen(ByteVector b, VectorSpecies<Short> shorts) {
        return (ShortVector) b.convertShape(VectorOperators.B2S, shorts, 0);
    }

    /** {@code SHORTS.length()} int8 activations from {@code q[i]}, widened. */
    static ShortVector int8(byte[] q, int i) {
        return (ShortVector) ByteVector.fromArray(BYTES, q, i).convertShape(VectorOperators.B2S, SHORTS, 0);
    }

    /** {@code SHORTS.length()} int8 weights at {@code off}, widened. */
    static ShortVector int8(MemorySegment w, long off) {
        return (ShortVector) ByteVector.fromMemorySegment(BYTES, w, off, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2S, SHORTS, 0);
    }

    /** Adds each pair of adjacent 16-bit lanes into one int32 lane (what x86's pmaddwd does after its multiply). */
    static IntVector pairSum(ShortVector p) {
        return pairSum(p, INTS);
    }

    /**
     * {@link #pairSum} into {@code ints}, the int species of p's size. Conversions name their target
     * species: the species-deriving forms ({@code reinterpretAsInts}, {@code convert}) look it up at
     * run time unless C2 folds the lookup, which it does not always manage.
     */
    static IntVector pairSum(ShortVector p, VectorSpecies<Integer> ints) {
        IntVector x = (IntVector) p.reinterpretShape(ints, 0);
        return x.lanewise(VectorOperators.ASHR, 16).add(x.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
    }

    static FloatVector toFloat(IntVector v) {
        return toFloat(v, FLOATS);
    }

    static FloatVector toFloat(IntVector v, VectorSpecies<Float> floats) {
        return (FloatVector) v.convertShape(VectorOperators.I2F, floats, 0);
    }
}
