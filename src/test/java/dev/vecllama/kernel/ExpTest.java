package dev.vecllama.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@link Exp#libmExpfSum}'s vector path must give the scalar {@link Exp#libmExpf}'s bits for every input, and
 * their in-order sum: attention's softmax uses it, and llama.cpp's logits are matched to the last
 * bit. Each test calls it thousands of times, so its checks run both on the Vector API's Java
 * fallback (before the JIT's top tier) and on the code C2 intrinsifies.
 */
class ExpTest {
    private static final float OVERFLOW = 0x1.62e42ep6f;
    private static final float UNDERFLOW = -0x1.9fe368p6f;

    /**
     * Runs libmExpfSum on x[from, to) and compares each element with the scalar function, the
     * elements outside the range with their old values, and the sum with an in-order scalar sum.
     */
    private static void check(float[] x, float shift, int from, int to) {
        float[] y = x.clone();
        float sum = Exp.libmExpfSumVector(y, shift, from, to);
        float wantSum = 0;
        for (int i = 0; i < x.length; i++) {
            boolean inRange = i >= from && i < to;
            float want = inRange ? Exp.libmExpf(x[i] - shift) : x[i];
            if (inRange) wantSum += want;
            int at = i;
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(y[i]),
                    () -> "libmExpf(" + Float.toHexString(x[at]) + " - " + Float.toHexString(shift) + ") = "
                            + Float.toHexString(want) + ", libmExpfSum gave " + Float.toHexString(y[at]));
        }
        float expectedSum = wantSum;
        // A sum with NaNs of different payloads among its terms keeps one of them, and which one depends
        // on the order C2 gives the operands of each add (here and in the kernel alike): Java leaves a
        // NaN result's bits unspecified, so such a sum is compared as NaN. Every element is compared by
        // its raw bits above, and every sum that is not NaN here.
        if (Float.isNaN(expectedSum)) {
            assertTrue(Float.isNaN(sum), () -> "sum over [" + from + ", " + to + ") is NaN, libmExpfSum gave " + Float.toHexString(sum));
            return;
        }
        assertEquals(Float.floatToRawIntBits(expectedSum), Float.floatToRawIntBits(sum),
                () -> "sum over [" + from + ", " + to + ") is " + Float.toHexString(expectedSum) + ", libmExpfSum gave " + Float.toHexString(sum));
    }

    /** Every float whose bits lie in [first, first + count), in calls of 1000 elements. */
    private static void checkBits(int first, int count) {
        float[] x = new float[1000];
        for (int done = 0; done < count; done += x.length) {
            int n = Math.min(x.length, count - done);
            for (int i = 0; i < n; i++) x[i] = Float.intBitsToFloat(first + done + i);
            check(x, 0f, 0, n);
        }
    }

    private static void checkAround(float center, int radius) {
        checkBits(Float.floatToRawIntBits(center) - radius, 2 * radius);
    }

    @Test
    void denseRanges() {
        checkBits(0, 1 << 21);                            // +0 and the smallest positive subnormals
        checkBits(0x80000000, 1 << 21);                   // -0 and the smallest negative subnormals
        checkAround(Float.MIN_NORMAL, 1 << 18);
        checkAround(0x1p-12f, 1 << 20);                   // where the reduced argument is tiny
        checkAround(1f, 1 << 20);
        checkAround(-1f, 1 << 20);
        checkAround(OVERFLOW, 1 << 16);
        checkAround(UNDERFLOW, 1 << 16);
        checkAround(-87.33655f, 1 << 16);                 // where results turn subnormal
        checkAround(-0x1.62e42ep6f, 1 << 16);
    }

    @Test
    void randomInputsAcrossTheRange() {
        Random random = new Random(42);
        float[] x = new float[4099];
        for (int round = 0; round < 300; round++) {
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < x.length; i++) {
                x[i] = -110f + 210f * random.nextFloat();
                max = Math.max(max, x[i]);
            }
            check(x, 0f, 0, x.length);
            check(x, max, 0, x.length);                   // as attention calls it: every result at most 1
            check(x, -3.5f * random.nextFloat(), 1 + random.nextInt(8), x.length - random.nextInt(8));
        }
    }

    @Test
    void specialValues() {
        float[] x = {
            Float.NaN, Float.intBitsToFloat(0xffc00000), Float.intBitsToFloat(0x7fc12345), Float.intBitsToFloat(0xffffffff),
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f,
            Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, -Float.MIN_NORMAL,
            Math.nextDown(Float.MIN_NORMAL), -Math.nextDown(Float.MIN_NORMAL), Float.MAX_VALUE, -Float.MAX_VALUE,
            OVERFLOW, Math.nextUp(OVERFLOW), Math.nextDown(OVERFLOW), 89f,
            UNDERFLOW, Math.nextDown(UNDERFLOW), Math.nextUp(UNDERFLOW), -104f,
            1f, -1f, 0.5f, -0.5f, 1e-30f, -1e-30f, 100f, -110f,
        };
        float[] rotated = new float[x.length + 3];
        for (int round = 0; round < 1000; round++) {
            // Every value in every lane position, with and without a scalar tail.
            int shift = round % 8;
            for (int i = 0; i < x.length; i++) rotated[(i + shift) % x.length] = x[i];
            check(rotated, 0f, 0, rotated.length);
            check(rotated, 0f, 0, x.length);
        }
    }

    @Test
    void everyLengthAndOffset() {
        Random random = new Random(7);
        float[] x = new float[80];
        for (int round = 0; round < 20; round++) {
            for (int i = 0; i < x.length; i++) x[i] = -20f + 25f * random.nextFloat();
            for (int from = 0; from < 10; from++) {
                for (int to = from; to <= x.length; to++) check(x, 1.25f, from, to);
            }
        }
    }

    /** Sampling misses differences as small as an unfused multiply-add in the reduction; this does not. */
    @Test
    @Tag("slow")
    void everyFloatButNaN() {
        IntStream.range(0, 1 << 16).parallel().forEach(chunk -> {
            float[] x = new float[1 << 16];
            int n = 0;
            for (int k = 0; k < 1 << 16; k++) {
                float f = Float.intBitsToFloat(chunk << 16 | k);
                if (f == f) x[n++] = f;
            }
            float[] y = x.clone();
            Exp.libmExpfSumVector(y, 0f, 0, n);
            for (int i = 0; i < n; i++) {
                float want = Exp.libmExpf(x[i]);
                if (Float.floatToRawIntBits(want) != Float.floatToRawIntBits(y[i])) {
                    throw new AssertionError("libmExpf(" + Float.toHexString(x[i]) + ") = " + Float.toHexString(want)
                            + ", libmExpfSum gave " + Float.toHexString(y[i]));
                }
            }
        });
    }
}
