package dev.vecllama.quant;

import dev.vecllama.activation.Activation;
import dev.vecllama.kernel.VectorWidth;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The species the kernels of this package use, at {@link VectorWidth#BITS}, and the integer building
 * blocks they share.
 *
 * <p>The species are static finals because C2 only intrinsifies vector operations whose species is a
 * compile-time constant; a species read from an instance field would silently fall back to the (100×
 * slower) Java implementation.
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
 * work inside a block is written as a loop (parsed once) rather than unrolled by hand. Past that
 * budget C2 still inlines the Vector API's own methods (late), but not ours: a kernel calls few
 * helpers of its own, and each kernel is a compilation root (the launchers' {@code dontinline} of
 * {@code dot*} and {@code unpack*}: the dots, the lane kernels and their unpacking), so that no
 * caller's code counts against its budget.
 *
 * <p>A third limit is why no helper takes a species as a parameter, and why each width has its own
 * helpers here even where their bodies read alike: a helper C2 does not inline (its budget spent) is
 * compiled on its own, where a species parameter is no constant and every operation takes the Java
 * fallback; and C2's type profile is per bytecode, so a helper that sees both 256-bit and 512-bit
 * vectors traps and recompiles until C2 leaves it in a slow tier. Either way the kernel runs 20–100×
 * slower for the rest of the run (seen on AVX-512: Q4_K, TQ1_0 at 1B shapes).
 *
 * <p>Two smaller lessons from the disassembly (PrintAssembly without hsdis prints the code bytes,
 * which objdump reads): C2 keeps an integer vector add to a zero vector, so a sum that a block
 * restarts is better started with its first term, as Q4_K's pairs are; but a vector that is null
 * until the first iteration, to avoid that add, is boxed and costs far more. And on Zen 4 a 512-bit
 * operation costs about two 256-bit ones: going wider saves instructions (and folds), not work.
 * Instructions are what these kernels are short of, and three more sources of them showed up: a
 * shift of 16-bit lanes by a scalar count rebuilds the count in a register before every shift (C2
 * has no immediate form for them; a vector of counts does not); a vector constant read from an array
 * at an index that changes per loop iteration costs a load and a mask each time; and C2 does not
 * unroll a loop whose body holds a few dozen vector operations at 4 iterations, but does at 2. So
 * a loop whose iterations differ only in constants is better nested as loops of 2 that choose their
 * constants with {@code j == 0 ? A : B}: unrolled, they become registers (Q6_K's 512-bit path, 1.6×
 * faster). That holds for vectors, not for masks: a blend whose mask was chosen so ran in the Java
 * fallback (Q4_K's decode, 1.1B tg 23 → 6 tok/s). And past the inlining budget a helper of ours that takes or returns a vector is called
 * with the vector boxed; the same lines of Vector API calls are inlined.
 */
final class VectorMath {
    private VectorMath() {}

    static final int BITS = VectorWidth.BITS;

    static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, VectorShape.forBitSize(BITS));
    /** The lane kernels' vectors: lane t is token t of a {@link TokenLanes} group. */
    static final VectorSpecies<Float> FLOATS = VectorWidth.FLOATS;
    static final VectorSpecies<Short> SHORTS = VectorSpecies.of(short.class, VectorShape.forBitSize(BITS));
    /** As many bytes as {@link #SHORTS} has lanes: the int8 loads that widen into one short vector. */
    static final VectorSpecies<Byte> BYTES = VectorSpecies.of(byte.class, VectorShape.forBitSize(BITS / 2));

    static final ShortVector LOW_NIBBLE = ShortVector.broadcast(SHORTS, (short) 0x0F);

    /** {@code SHORTS.length()} unsigned bytes at {@code off}, widened: where packed codes are unpacked. */
    static ShortVector uint8(MemorySegment w, long off) {
        return (ShortVector) ByteVector.fromMemorySegment(BYTES, w, off, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
    }

    /**
     * Adds each pair of adjacent 16-bit lanes into one int32 lane (what x86's pmaddwd does after its
     * multiply), for pairs whose sum fits in 16 bits: the upper half of x + (x << 16) is then that sum,
     * one operation fewer than sign-extending both halves.
     */
    static IntVector pairSum(ShortVector p) {
        IntVector x = (IntVector) p.reinterpretShape(INTS, 0);
        return x.add(x.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
    }

    // ---- Eight float lanes: the accumulator shape llama.cpp's x86 kernels sum in ----
    //
    // llama.cpp's AVX2/AVX-512 kernels keep a dot product in a __m256 of 8 float lanes (tinyBLAS's
    // Q8_0, ggml_vec_dot_q6_K_q8_K) or a __m512 that its reduction first folds into 8 (tinyBLAS's F16),
    // and finish with one fixed horizontal sum. To reproduce their floats bit for bit, the kernels that
    // follow those orders use 256-bit vectors at every width: lane l of our accumulator is lane l of theirs.

    static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    /** 32 int8 weights read as 16 little-endian pairs: element 2k is the low byte of lane k. */
    static final VectorSpecies<Short> S16 = ShortVector.SPECIES_256;
    static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;

    /** The low (even-element) byte of each packed pair, sign-extended. */
    static ShortVector evenInt8(ShortVector pairs) {
        return pairs.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8);
    }

    /** The high (odd-element) byte of each packed pair, sign-extended. */
    static ShortVector oddInt8(ShortVector pairs) {
        return pairs.lanewise(VectorOperators.ASHR, 8);
    }

    /**
     * Lane l (of 8) = Σ w·a over elements 4l .. 4l + 3 of a run of 32, the lane x86's maddubs + madd
     * (or vpdpbusd) leaves each product in; at 512 bits, lanes 8..15 the same of the next run. The
     * weights come as their even and odd elements, already widened (each format unpacks its own
     * codes); the activations likewise, from {@link Activation#evens} and {@link Activation#odds} at
     * pair index k. An even and an odd product share a 16-bit lane, so |w| · 127 · 2 must stay below
     * 2^15: true for any int8 weight against activations in [-127, 127], which is what the Q8_0 and
     * Q8_K quantizers produce.
     */
    static IntVector quadSums(ShortVector wEven, ShortVector wOdd, short[] aEvens, short[] aOdds, int k) {
        // Two such lanes can exceed 16 bits together, so each is sign-extended before they are added.
        IntVector x = wEven.mul(ShortVector.fromArray(wEven.species(), aEvens, k)).add(wOdd.mul(ShortVector.fromArray(wOdd.species(), aOdds, k))).reinterpretAsInts();
        return x.lanewise(VectorOperators.ASHR, 16).add(x.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
    }

    /** {@link #pairSum} of 16 short lanes into 8 int lanes, at every width; each pair's sum must fit in 16 bits. */
    static IntVector pairSum8(ShortVector p) {
        IntVector x = (IntVector) p.reinterpretShape(I8, 0);
        return x.add(x.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
    }

    /**
     * llama.cpp's horizontal sum of 8 float lanes (hsum_float_8; tinyBLAS's hsum of a __m256; the last
     * three steps of _mm512_reduce_add_ps): fold the upper 4 lanes onto the lower, then lanes 2, 3 onto
     * 0, 1, then lane 1 onto lane 0. Never {@code reduceLanes(ADD)}: its order is not fixed (the
     * interpreter and C2's intrinsic differ), so logits would change when the JIT warms up.
     */
    static float hsum8(FloatVector v) {
        // The same three folds as lane permutes: a lane read each would cost more than the kernel's
        // work on a short row (a 256-wide output projection, 32000 rows, is most of a small model's decode).
        FloatVector b = v.add(v.rearrange(UPPER_HALF));
        FloatVector c = b.add(b.rearrange(UPPER_PAIR));
        return c.lane(0) + c.lane(1);
    }

    /** Lanes 4..7 onto 0..3, and lanes 2, 3 onto 0, 1 (the upper lanes' contents do not matter). */
    private static final VectorShuffle<Float> UPPER_HALF = VectorShuffle.fromValues(F8, 4, 5, 6, 7, 0, 1, 2, 3);
    private static final VectorShuffle<Float> UPPER_PAIR = VectorShuffle.fromValues(F8, 2, 3, 0, 1, 6, 7, 4, 5);

    /** {@link #hsum8(FloatVector)} of the scalar references' 8 accumulators. */
    static float hsum8(float[] x) {
        return hsum8(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]);
    }

    static float hsum8(float x0, float x1, float x2, float x3, float x4, float x5, float x6, float x7) {
        float b0 = x0 + x4, b1 = x1 + x5, b2 = x2 + x6, b3 = x3 + x7;
        return (b0 + b2) + (b1 + b3);
    }

    /** The 8 int lanes as floats. */
    static FloatVector toFloat8(IntVector v) {
        return (FloatVector) v.convertShape(VectorOperators.I2F, F8, 0);
    }

    /** The 16 int lanes (at 512 bits) as floats. */
    static FloatVector toFloat16(IntVector v) {
        return (FloatVector) v.convertShape(VectorOperators.I2F, FloatVector.SPECIES_512, 0);
    }

    /** Lanes 0..7 of 16. */
    static FloatVector lowerHalf(FloatVector v) {
        return (FloatVector) v.reinterpretShape(F8, 0);
    }

    /** Lanes 8..15 of 16. (As {@code reinterpretShape(F8, 1)}, C2 left the reinterpretation to the Java fallback.) */
    static FloatVector upperHalf(FloatVector v) {
        return lowerHalf(v.rearrange(SWAP_HALVES_16));
    }

    private static final VectorShuffle<Float> SWAP_HALVES_16 = VectorShuffle.fromOp(FloatVector.SPECIES_512, i -> i ^ 8);
}
