package dev.vecllama.model;

import dev.vecllama.kernel.VectorWidth;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Keys and values of every past position, per layer, row-major by position:
 * {@code keys[layer][pos * kvDim + head * headDim + i]}. Stored as half-precision bits, like
 * llama.cpp's default f16 cache, so attention sees the numbers it sees, in the same 2 bytes an
 * element (held as floats, a 1.1B model's 2048 positions took 88 MiB, twice llama.cpp's cache).
 */
public final class KVCache {
    public final short[][] keys;
    public final short[][] values;
    public final int capacity;
    public final int kvDim;

    public KVCache(LlamaConfig c, int capacity) {
        this.capacity = capacity;
        this.kvDim = c.kvDim();
        long elements = (long) capacity * kvDim;
        if (elements > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("context of " + capacity + " positions is too large for one KV cache");
        }
        keys = new short[c.layers()][(int) elements];
        values = new short[c.layers()][(int) elements];
    }

    public void store(int layer, int pos, float[] k, float[] v) {
        int o = pos * kvDim;
        short[] kc = keys[layer], vc = values[layer];
        for (int i = 0; i < kvDim; i++) {
            kc[o + i] = Float.floatToFloat16(k[i]);
            vc[o + i] = Float.floatToFloat16(v[i]);
        }
    }

    /**
     * One KV head (elements kvo .. kvo + hd of each position) at positions 0 .. positions − 1 of a
     * layer's {@code halves} (its keys or values) into {@code to} as floats, where they are there.
     * Attention converts a head once per thread and layer, then reads floats. One element at a time
     * until the warm-up has compiled the vector conversion (Attention#EXERCISE): interpreted, it made a
     * tiny model's first 2-token prompt 50–80 ms slower.
     */
    void toFloats(short[] halves, int kvo, int hd, int positions, float[] to) {
        boolean vector = Attention.EXERCISE.on();
        for (int p = 0; p < positions; p++) {
            int o = p * kvDim + kvo;
            if (vector) toFloats(halves, o, to, hd);
            else for (int i = o; i < o + hd; i++) to[i] = Float.float16ToFloat(halves[i]);
        }
    }

    /** x rounded to the nearest half-precision value. */
    static float toHalf(float x) {
        return Float.float16ToFloat(Float.floatToFloat16(x));
    }

    private static final VectorSpecies<Float> HALVES = VectorWidth.FLOATS;
    private static final int SIGN = 0x80000000, MAGNITUDE = 0x7FFFFFFF, INFINITY = 0x7F800000;
    /** 2^-14, the smallest normal half: below it halves are multiples of 2^-24. */
    private static final int MIN_NORMAL_HALF = 0x38800000;
    /** 65520: from here on a float rounds to a half's infinity. */
    private static final int HALF_OVERFLOW = 0x477FF000;
    /** A float whose ulp is 2^-24: adding and subtracting it rounds |x| < 2^-14 to the half grid, ties to even. */
    private static final float SUBNORMAL_ROUNDER = 0.75f;

    /**
     * {@code to[to0 + i] = toHalf(from[from0 + i]·factor)} for i < n, a vector at a time and bit for bit
     * (NaN stays NaN): halves keep 10 of a float's 23 mantissa bits, so in the normal range the float
     * is rounded to even at bit 13 in the integer unit; below it the FPU rounds to the fixed grid of
     * half subnormals. Arrays in and out, not vectors: a vector handed to a method C2 declines to
     * inline becomes an object.
     */
    static void toHalf(float[] from, int from0, float factor, float[] to, int to0, int n) {
        int vecEnd = HALVES.loopBound(n);
        for (int i = 0; i < vecEnd; i += HALVES.length()) {
            FloatVector x = FloatVector.fromArray(HALVES, from, from0 + i).mul(factor);
            IntVector bits = x.reinterpretAsInts(), magnitude = bits.and(MAGNITUDE);
            IntVector normal = magnitude.add(magnitude.lanewise(VectorOperators.LSHR, 13).and(1)).add(0xFFF).and(~0x1FFF);
            IntVector subnormal = x.abs().add(SUBNORMAL_ROUNDER).sub(SUBNORMAL_ROUNDER).reinterpretAsInts();
            normal.blend(subnormal, magnitude.compare(VectorOperators.LT, MIN_NORMAL_HALF))
                    .blend(INFINITY, magnitude.compare(VectorOperators.GE, HALF_OVERFLOW))
                    .blend(magnitude, magnitude.compare(VectorOperators.GT, INFINITY))
                    .or(bits.and(SIGN)).reinterpretAsFloats().intoArray(to, to0 + i);
        }
        for (int i = vecEnd; i < n; i++) to[to0 + i] = toHalf(from[from0 + i] * factor);
    }

    private static final VectorSpecies<Short> HALF_BITS = VectorSpecies.of(short.class, VectorShape.forBitSize(HALVES.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> HALF_INTS = VectorSpecies.of(int.class, HALVES.vectorShape());

    /**
     * {@code to[o + i]} = the half {@code from[o + i]}, for i &lt; n, exactly as {@link Float#float16ToFloat}
     * (which C2 does not vectorize here), NaNs as NaNs: the sign-extended bits shifted into a float's places read
     * 2^112 times too small, so times 2^112 (exact, subnormals included), and for an all-ones exponent
     * (infinity, NaN) the float exponent bits the shift could not reach.
     */
    static void toFloats(short[] from, int o, float[] to, int n) {
        int vecEnd = HALVES.loopBound(n);
        for (int i = 0; i < vecEnd; i += HALVES.length()) {
            IntVector h = (IntVector) ShortVector.fromArray(HALF_BITS, from, o + i).convertShape(VectorOperators.S2I, HALF_INTS, 0);
            IntVector bits = h.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000);
            bits.reinterpretAsFloats().mul(0x1p112f).blend(bits.or(0x70000000).reinterpretAsFloats(), h.and(0x7C00).compare(VectorOperators.EQ, 0x7C00).cast(HALVES))
                    .intoArray(to, o + i);
        }
        for (int i = vecEnd; i < n; i++) to[o + i] = Float.float16ToFloat(from[o + i]);
    }

    public long byteSize() {
        return 2L * keys.length * capacity * kvDim * Short.BYTES;
    }
}
