package dev.vecllama.quant;

import dev.vecllama.activation.Activation;
import dev.vecllama.activation.ActivationKind;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * What the two BitNet b1.58 formats share: super-blocks of 256 ternary weights, each stored as a
 * code c in {0, 1, 2} (weight = d·(c − 1), one f16 d per block), dotted with Q8_K activations.
 *
 * <p>A block's integer dot is Σ c·a − Σ a: the codes multiply unsigned into 16-bit lanes (what x86's
 * pmaddubsw does), and the −1 offset costs one subtraction of the activation's partial sums per block
 * instead of a subtraction per weight. The Vector API has no byte multiply-add, and a 16-bit lane
 * multiply is a single instruction, cheaper than the compare-and-blend that would replace it. Which
 * partial sums a lane subtracts (llama.cpp's: those of chunk u from lane u) changes the lanes, not
 * their total, so it must be llama.cpp's for the floats to be its floats.
 *
 * <p>Float summation follows llama.cpp's AVX2 kernels exactly, so that our logits are its logits bit
 * for bit: both formats view a block as 8 chunks of 32 weights; int32 lane u (0..7) sums, over all
 * chunks, the products at positions 4u..4u+3 of the chunk, minus the activation partial sums 2u and
 * 2u+1; lane u accumulates d_w·d_a·lane over the blocks in order (fused multiply-add, as GCC compiles
 * llama.cpp's multiply-then-add); the 8 lanes are added as ((0+4)+(2+6))+((1+5)+(3+7)). The scalar
 * reference does the same in plain loops, so {@link #dot} equals {@link #dotReference} exactly.
 *
 * <p>Below 512 bits the vectors are at most 256 bits wide ({@link #SHORTS}): llama.cpp's 8 lanes are one
 * 256-bit vector, and in TQ1_0 the two halves of a chunk come from different bytes, which one vector
 * of 32 positions straddles. The vector path there is TQ2_0's; TQ1_0 unpacks its blocks into TQ2_0's
 * form and runs it. At 512 bits both dots hold a chunk's 32 positions in one vector ({@link #WIDE}),
 * TQ1_0 reading each half from its own bytes, and share {@link #accumulateWide}.
 */
abstract sealed class Ternary implements WeightFormat permits TQ1_0, TQ2_0 {
    static final int BLOCK = 256;
    /** Positions (of 32) per chunk. */
    static final int CHUNK = 32;

    static final int BITS = Math.min(VectorMath.BITS, 256);
    static final VectorSpecies<Short> SHORTS = VectorSpecies.of(short.class, VectorShape.forBitSize(BITS));
    static final VectorSpecies<Byte> BYTES = VectorSpecies.of(byte.class, VectorShape.forBitSize(BITS / 2));
    static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, VectorShape.forBitSize(BITS));
    static final VectorSpecies<Long> LONGS = VectorSpecies.of(long.class, VectorShape.forBitSize(BITS));
    static final VectorSpecies<Float> FLOATS = VectorSpecies.of(float.class, VectorShape.forBitSize(BITS));
    /** As many shorts as INTS has lanes: the activation partial sums that widen into one int vector. */
    static final VectorSpecies<Short> SUMS = VectorSpecies.of(short.class, VectorShape.forBitSize(BITS / 2));
    /** Positions per short vector: 16 (256 bits) or 8 (128 bits); a vector never straddles a chunk's halves. */
    static final int L = SHORTS.length();
    /** Position vectors per chunk, and the float accumulators they fold into (two position vectors each). */
    static final int NV = CHUNK / L, ACCS = NV / 2;

    // The 512-bit dots (VectorMath.BITS == 512 only): one short vector holds a chunk's 32 positions.
    static final VectorSpecies<Short> WIDE = ShortVector.SPECIES_512;
    static final VectorSpecies<Byte> WIDE_BYTES = ByteVector.SPECIES_256;
    static final VectorSpecies<Integer> WIDE_INTS = IntVector.SPECIES_512;
    static final VectorSpecies<Long> WIDE_LONGS = LongVector.SPECIES_512;
    static final VectorSpecies<Float> WIDE_FLOATS = FloatVector.SPECIES_512;
    static final VectorSpecies<Short> WIDE_SUMS = ShortVector.SPECIES_256;

    private final int blockBytes, dOffset;

    Ternary(int blockBytes, int dOffset) {
        this.blockBytes = blockBytes;
        this.dOffset = dOffset;
    }

    @Override
    public ActivationKind activationKind() {
        return ActivationKind.Q8_K;
    }

    /** Element j (0 ≤ j < 256) of the block at {@code o}, as its code 0, 1 or 2. */
    abstract int code(MemorySegment w, long o, int j);

    private float d(MemorySegment w, long o) {
        return Half.f16(w, o + dOffset);
    }

    @Override
    public void dequantize(MemorySegment w, long offset, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * blockBytes;
            float d = d(w, o);
            for (int j = 0; j < BLOCK; j++) dst[dstOff + b * BLOCK + j] = (code(w, o, j) - 1) * d;
        }
    }

    @Override
    public float dotReference(MemorySegment w, long offset, Activation a, int n) {
        float[] acc = new float[8];
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * blockBytes;
            int i = b * BLOCK;
            for (int u = 0; u < 8; u++) {
                int lane = -a.sums[i / 16 + 2 * u] - a.sums[i / 16 + 2 * u + 1];
                for (int c = 0; c < BLOCK / CHUNK; c++) {
                    for (int k = 4 * u; k < 4 * u + 4; k++) lane += code(w, o, CHUNK * c + k) * a.q[i + CHUNK * c + k];
                }
                acc[u] = Math.fma(lane, d(w, o) * a.scale[b], acc[u]);
            }
        }
        return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
    }

    /**
     * A 512-bit dot's step for block b: {@code s} holds, per position m of a chunk, Σ over the 8 chunks
     * of code·a; after the pair sums, the partial sums and the fold, int lane 2u holds llama.cpp's
     * lane u (positions 4u .. 4u + 3), and float lane 2u of {@code acc} accumulates it.
     */
    static FloatVector accumulateWide(ShortVector s, Activation a, int b, float d, FloatVector acc) {
        IntVector x = (IntVector) s.reinterpretShape(WIDE_INTS, 0);
        IntVector p = x.lanewise(VectorOperators.ASHR, 16).add(x.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16))
                .sub((IntVector) ShortVector.fromArray(WIDE_SUMS, a.sums, b * 16).convertShape(VectorOperators.S2I, WIDE_INTS, 0));
        IntVector folded = p.add((IntVector) ((LongVector) p.reinterpretShape(WIDE_LONGS, 0)).lanewise(VectorOperators.LSHR, 32).reinterpretShape(WIDE_INTS, 0));
        return ((FloatVector) folded.convertShape(VectorOperators.I2F, WIDE_FLOATS, 0)).fma(FloatVector.broadcast(WIDE_FLOATS, d * a.scale[b]), acc);
    }

    /**
     * A 512-bit dot's result, from its accumulator's 16 lanes stored in {@code lanes}: lanes u and
     * u + 4 of llama.cpp's 8 (float lanes 2u and 2u + 8) added first, as {@link #dotReference} does.
     * Scalar, from an array: a helper taking the vector is past the kernels' inlining budget, and
     * then called with the vector boxed.
     */
    static float sumWide(float[] lanes) {
        float s0 = lanes[0] + lanes[8], s1 = lanes[2] + lanes[10], s2 = lanes[4] + lanes[12], s3 = lanes[6] + lanes[14];
        return (s0 + s2) + (s1 + s3);
    }

    /** {@link LaneKernel#readsPairs} of both formats, whose lane kernel is {@link #pairLanes}. */
    public boolean readsPairs() {
        return true;
    }

    /**
     * The lane kernel of both formats, on rows unpacked to their codes (0, 1, 2) and narrowed to pairs
     * ({@link TokenLanes#matmulPairs}): per block, lane l sums code·a over positions 4l .. 4l + 3 of the
     * 8 chunks in 16-bit halves, 16 products of at most 2·128 each, one multiply and one add per pair of
     * elements for a whole group of tokens (float FMAs did one element per operation). Then, per
     * token, the two halves are added, chunk l's activation sum subtracted and the total fma'd with
     * d_w·d_a: {@link #dotReference}'s lane, exactly. The 8 lanes of each row are left in
     * {@code x.partials} for {@link TokenLanes#storeHsum8}, which the caller runs: inlined here, past
     * C2's budget for this kernel, its vector reads were left to the Java fallback (a third of tiny
     * models' prompt time).
     */
    static void dotPairLanes(TokenLanes x, int g, int n) {
        VectorSpecies<Short> pairs = TokenLanes.PAIR_SHORTS;
        VectorSpecies<Integer> ints = VectorMath.INTS;
        VectorSpecies<Float> floats = VectorMath.FLOATS;
        int blocks = n / BLOCK, width = TokenLanes.WIDTH, half = n / 2;
        int[] wp = x.rowPairs;
        short[] ap = x.pairs;
        float[] d = x.rowConstants;
        int v = g * n * width, s = g * blocks * width, u = g * (n / 32) * width;
        ShortVector zero = ShortVector.zero(pairs);
        for (int l = 0; l < 8; l++) {
            FloatVector acc = FloatVector.zero(floats), acc2 = acc;
            for (int b = 0; b < blocks; b++) {
                ShortVector p0 = zero, p1 = zero, q0 = zero, q1 = zero;
                for (int k = (b * BLOCK + 4 * l) / 2; k < (b + 1) * BLOCK / 2; k += CHUNK / 2) {
                    ShortVector x0 = ShortVector.fromArray(pairs, ap, v + 2 * k * width), x1 = ShortVector.fromArray(pairs, ap, v + 2 * (k + 1) * width);
                    p0 = p0.add(x0.mul(IntVector.broadcast(ints, wp[k]).reinterpretAsShorts()));
                    q0 = q0.add(x0.mul(IntVector.broadcast(ints, wp[half + k]).reinterpretAsShorts()));
                    p1 = p1.add(x1.mul(IntVector.broadcast(ints, wp[k + 1]).reinterpretAsShorts()));
                    q1 = q1.add(x1.mul(IntVector.broadcast(ints, wp[half + k + 1]).reinterpretAsShorts()));
                }
                IntVector i1 = p0.add(p1).reinterpretAsInts(), i2 = q0.add(q1).reinterpretAsInts();
                i1 = i1.lanewise(VectorOperators.ASHR, 16).add(i1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                i2 = i2.lanewise(VectorOperators.ASHR, 16).add(i2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                FloatVector sum = FloatVector.fromArray(floats, x.sums, u + (8 * b + l) * width);
                FloatVector da = FloatVector.fromArray(floats, x.scales, s + b * width);
                acc = ((FloatVector) i1.convertShape(VectorOperators.I2F, floats, 0)).sub(sum).fma(da.mul(FloatVector.broadcast(floats, d[b])), acc);
                acc2 = ((FloatVector) i2.convertShape(VectorOperators.I2F, floats, 0)).sub(sum).fma(da.mul(FloatVector.broadcast(floats, d[blocks + b])), acc2);
            }
            acc.intoArray(x.partials, l * width);
            acc2.intoArray(x.partials, (8 + l) * width);
        }
    }

    /** {@link #dotPairLanes} and its results stored: the lane kernel of both formats. */
    static void pairLanes(TokenLanes x, int g, int n, float[][] out, int r, int r2) {
        dotPairLanes(x, g, n);
        x.storeHsum8(out, g, r, r2);
    }

    /** {@code L} unsigned bytes at {@code off}, widened. */
    static ShortVector uint8(MemorySegment w, long off) {
        return (ShortVector) ByteVector.fromMemorySegment(BYTES, w, off, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
    }
}
