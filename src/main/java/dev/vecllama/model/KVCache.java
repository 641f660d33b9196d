package dev.vecllama.model;

import dev.vecllama.kernel.VectorWidth;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Keys and values of every past position, per layer, row-major by position:
 * {@code keys[layer][pos * kvDim + head * headDim + i]}. Values are rounded to half precision as
 * they are stored, like llama.cpp's default f16 cache, so attention sees the numbers it sees.
 */
public final class KVCache {
    public final float[][] keys;
    public final float[][] values;
    public final int capacity;
    public final int kvDim;

    public KVCache(LlamaConfig c, int capacity) {
        this.capacity = capacity;
        this.kvDim = c.kvDim();
        long floats = (long) capacity * kvDim;
        if (floats > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("context of " + capacity + " positions is too large for one KV cache");
        }
        keys = new float[c.layers()][(int) floats];
        values = new float[c.layers()][(int) floats];
    }

    public void store(int layer, int pos, float[] k, float[] v) {
        int o = pos * kvDim;
        // One element at a time: a prompt's first tokens store before the JIT has compiled the vector rounding.
        float[] kc = keys[layer], vc = values[layer];
        for (int i = 0; i < kvDim; i++) {
            kc[o + i] = toHalf(k[i]);
            vc[o + i] = toHalf(v[i]);
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

    public long byteSize() {
        return 2L * keys.length * capacity * kvDim * Float.BYTES;
    }
}
