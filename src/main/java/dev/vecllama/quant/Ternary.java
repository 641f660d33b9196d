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
 * <p>The vectors are at most 256 bits wide: llama.cpp's 8 lanes are one 256-bit vector, and in TQ1_0
 * the two halves of a chunk come from different bytes, which a 512-bit vector (32 positions) would
 * straddle. A subclass supplies, per vector of positions, the 16-bit sums of code·a over the chunks.
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

    /**
     * For positions v·L .. v·L + L − 1 of every chunk: Σ over the 8 chunks of code·a, per position, in
     * 16-bit lanes (at most 8·2·127 in magnitude). {@code i} is the block's first activation index.
     */
    abstract ShortVector positions(MemorySegment w, long o, byte[] q, int i, int v);

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
     * Position vector v (v < ACCS) gives llama.cpp's lanes m = v·L/4 + k at lanes 2k of accumulator
     * v, and position vector v + ACCS gives lanes m + 4 at lanes 2k + 1 of accumulator v + ACCS; the
     * other lanes hold partial sums nobody reads. One position vector per loop iteration keeps the
     * kernel within C2's inlining budget (see {@link VectorMath}).
     */
    @Override
    public float dot(MemorySegment w, long offset, Activation a, int n) {
        FloatVector acc0 = FloatVector.zero(FLOATS), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * blockBytes;
            FloatVector d = FloatVector.broadcast(FLOATS, d(w, o) * a.scale[b]);
            for (int v = 0; v < NV; v++) {
                IntVector p = pairSum(positions(w, o, a.q, b * BLOCK, v)).sub(partialSums(a.sums, b, v));
                FloatVector f = (FloatVector) foldPairs(p, v < ACCS ? 32 : -32).convertShape(VectorOperators.I2F, FLOATS, 0);
                // NV is a constant: at 256 bits C2 parses only the first two arms.
                if (v == 0) acc0 = f.fma(d, acc0);
                else if (NV == 2 || v == 2) {
                    if (NV == 2) acc1 = f.fma(d, acc1);
                    else acc2 = f.fma(d, acc2);
                } else if (v == 1) acc1 = f.fma(d, acc1);
                else acc3 = f.fma(d, acc3);
            }
        }
        // Lanes m and m + 4 of llama.cpp's 8, added first: (0+4), (1+5), (2+6), (3+7).
        float s0, s1, s2, s3;
        if (ACCS == 1) {
            s0 = acc0.lane(0) + acc1.lane(1);
            s1 = acc0.lane(2) + acc1.lane(3);
            s2 = acc0.lane(4) + acc1.lane(5);
            s3 = acc0.lane(6) + acc1.lane(7);
        } else {
            s0 = acc0.lane(0) + acc2.lane(1);
            s1 = acc0.lane(2) + acc2.lane(3);
            s2 = acc1.lane(0) + acc3.lane(1);
            s3 = acc1.lane(2) + acc3.lane(3);
        }
        return (s0 + s2) + (s1 + s3);
    }

    /**
     * The activation partial sums for position vector v, one per int lane: after the pair sums, int
     * lane j covers positions v·L + 2j, +1, which belong to partial sum v·L/2 + j's lane.
     */
    private static IntVector partialSums(short[] sums, int b, int v) {
        return (IntVector) ShortVector.fromArray(SUMS, sums, b * 16 + v * L / 2).convertShape(VectorOperators.S2I, INTS, 0);
    }

    /**
     * Each pair of int lanes (one long) holds two halves of a lane's four positions: their sum, in the
     * low int ({@code shift} 32) or the high int ({@code shift} −32, a left shift). One call site for
     * both keeps the kernel within C2's node budget.
     */
    private static IntVector foldPairs(IntVector p, int shift) {
        LongVector l = (LongVector) p.reinterpretShape(LONGS, 0);
        return p.add((IntVector) (shift > 0 ? l.lanewise(VectorOperators.LSHR, 32) : l.lanewise(VectorOperators.LSHL, 32)).reinterpretShape(INTS, 0));
    }

    /** {@link VectorMath#pairSum} at this class's width (see {@link VectorMath} on why each width has its own). */
    private static IntVector pairSum(ShortVector p) {
        IntVector x = (IntVector) p.reinterpretShape(INTS, 0);
        return x.lanewise(VectorOperators.ASHR, 16).add(x.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
    }

    /** {@code L} unsigned bytes at {@code off}, widened. */
    static ShortVector uint8(MemorySegment w, long off) {
        return (ShortVector) ByteVector.fromMemorySegment(BYTES, w, off, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
    }

    /** {@code L} int8 activations from {@code q[i]}, widened. */
    static ShortVector int8(byte[] q, int i) {
        return (ShortVector) ByteVector.fromArray(BYTES, q, i).convertShape(VectorOperators.B2S, SHORTS, 0);
    }
}
