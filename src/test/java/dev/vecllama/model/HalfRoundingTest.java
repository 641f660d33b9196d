package dev.vecllama.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vecllama.kernel.VectorWidth;
import java.util.Random;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The vector {@link KVCache#toHalf(float[], int, float, float[], int, int)} must round every float as the scalar {@link KVCache#toHalf(float)}
 * does: decode attention keeps its running sums in it, and they are compared with llama.cpp's to the bit.
 * The checks run thousands of calls, so both the Vector API's Java fallback and C2's code are exercised.
 */
class HalfRoundingTest {
    private static final VectorSpecies<Float> S = VectorWidth.FLOATS;

    /** Every float whose bits lie in [first, first + count), a vector at a time. */
    private static void checkBits(long first, long count) {
        float[] x = new float[S.length()], y = new float[S.length()];
        for (long b = first; b < first + count; b += x.length) {
            for (int i = 0; i < x.length; i++) x[i] = Float.intBitsToFloat((int) (b + i));
            KVCache.toHalf(x, 0, 1f, y, 0, x.length);
            for (int i = 0; i < x.length; i++) check(x[i], y[i]);
        }
    }

    private static void check(float x, float got) {
        float want = KVCache.toHalf(x);
        if (Float.isNaN(want)) {
            assertEquals(true, Float.isNaN(got), () -> Float.toHexString(x) + " should stay NaN, got " + Float.toHexString(got));
        } else {
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got),
                    () -> "toHalf(" + Float.toHexString(x) + ") = " + Float.toHexString(want) + ", the vector gave " + Float.toHexString(got));
        }
    }

    private static void checkAround(float center, int radius) {
        long c = Float.floatToRawIntBits(center) & 0xFFFFFFFFL;
        checkBits(c - radius, 2L * radius);
        checkBits((c | 0x80000000L) - radius, 2L * radius);
    }

    @Test
    void boundariesAndRandomFloats() {
        checkBits(0, 1 << 16);                           // zero and the smallest float subnormals
        checkAround(0x1p-25f, 1 << 16);                  // half of the smallest half subnormal: ties to zero
        checkAround(0x1p-24f, 1 << 16);                  // the smallest half subnormal
        checkAround(0x1.ff8p-15f, 1 << 16);              // the largest half subnormal
        checkAround(0x1p-14f, 1 << 16);                  // the smallest normal half
        checkAround(1f, 1 << 16);
        checkAround(65504f, 1 << 16);                    // the largest half
        checkAround(65520f, 1 << 16);                    // where rounding reaches infinity
        checkAround(Float.POSITIVE_INFINITY, 1 << 10);   // infinity and NaNs next to it
        Random rnd = new Random(7);
        float[] x = new float[S.length()], y = new float[S.length()];
        for (int n = 0; n < 1 << 18; n++) {
            for (int i = 0; i < x.length; i++) x[i] = Float.intBitsToFloat(rnd.nextInt());
            KVCache.toHalf(x, 0, 1f, y, 0, x.length);
            for (int i = 0; i < x.length; i++) check(x[i], y[i]);
        }
        // A factor, an offset and a length that leaves a scalar tail, as attention's rescaling uses it.
        float[] from = new float[3 * S.length() + 5], to = new float[from.length];
        for (int n = 0; n < 1 << 14; n++) {
            for (int i = 0; i < from.length; i++) from[i] = (float) (rnd.nextGaussian() * Math.pow(2, rnd.nextInt(60) - 40));
            float factor = rnd.nextFloat();
            KVCache.toHalf(from, 3, factor, to, 1, from.length - 3);
            for (int i = 0; i < from.length - 3; i++) check(from[3 + i] * factor, to[1 + i]);
        }
    }

    @Test
    @Tag("slow")
    void everyFloat() {
        checkBits(0, 1L << 32);
    }
}
