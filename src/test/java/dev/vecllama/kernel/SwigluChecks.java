package dev.vecllama.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

/**
 * {@link Exp#swigluVector} must give {@link Exp#swigluReference}'s bits: the FFN's gate feeds the
 * int8 quantization of the down projection's input, where one ulp can change a rounding. Each check
 * makes thousands of calls, so the Vector API's Java fallback and C2's code are both checked. Run by
 * {@link SwigluTest} and, at every vector width, by the kernel checks.
 */
public final class SwigluChecks {
    private SwigluChecks() {}

    /** Every check but the dense ranges: quick enough for each vector width's child JVM. */
    public static void checkAll() {
        randomGatesEveryLengthAndTail();
        specialValues();
    }

    private static void check(float[] gate, float[] up, int n) {
        float[] want = new float[n], got = new float[n];
        Exp.swigluReference(want, gate, up, n);
        Exp.swigluVector(got, gate, up, n);
        for (int i = 0; i < n; i++) {
            int at = i;
            // NaNs compare as NaN: which payload survives an fma is the hardware's choice.
            assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]),
                    () -> "silu(" + Float.toHexString(gate[at]) + ") * " + Float.toHexString(up[at]) + " = "
                            + Float.toHexString(want[at]) + ", swigluVector gave " + Float.toHexString(got[at]));
        }
    }

    /** Every gate whose bits lie in [first, first + count), against up = 1 and against random up. */
    private static void checkBits(int first, int count, Random random) {
        float[] gate = new float[1000], one = new float[1000], up = new float[1000];
        java.util.Arrays.fill(one, 1f);
        for (int done = 0; done < count; done += gate.length) {
            int n = Math.min(gate.length, count - done);
            for (int i = 0; i < n; i++) {
                gate[i] = Float.intBitsToFloat(first + done + i);
                up[i] = 4 * random.nextFloat() - 2;
            }
            check(gate, one, n);
            check(gate, up, n);
        }
    }

    static void denseRanges() {
        Random random = new Random(3);
        for (float center : new float[] {0f, -0f, 1f, -1f, 0x1p-12f, -0x1p-12f, 10f, -10f, 87.3f, -87.3f, 88.7f, -88.7f, 103f, -103f}) {
            int bits = Float.floatToRawIntBits(center);
            checkBits(bits - (1 << 17), 1 << 18, random);
        }
        checkBits(0, 1 << 18, random);                     // +0 and the smallest subnormals
        checkBits(0x80000000, 1 << 18, random);
    }

    static void randomGatesEveryLengthAndTail() {
        Random random = new Random(11);
        float[] gate = new float[800], up = new float[800];
        for (int round = 0; round < 400; round++) {
            float range = round % 4 == 0 ? 200f : 12f;
            for (int i = 0; i < gate.length; i++) {
                gate[i] = range * (random.nextFloat() - 0.5f);
                up[i] = 8 * (random.nextFloat() - 0.5f);
            }
            check(gate, up, round % 2 == 0 ? gate.length : 1 + random.nextInt(gate.length));
        }
        for (int n = 0; n <= 70; n++) check(gate, up, n);
    }

    static void specialValues() {
        float[] x = {
            Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE,
            Float.MIN_NORMAL, -Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE, 87.33655f, -87.33655f, 89f, -89f,
            1f, -1f, 0.5f, -0.5f, 1e-30f, -1e-30f, 100f, -110f, 3f, -3f, 20f, -20f, 50f, -50f, 7e-3f, 1e6f, -1e6f,
        };
        float[] gate = new float[x.length + 5], up = new float[x.length + 5];
        for (int round = 0; round < 1000; round++) {
            for (int i = 0; i < gate.length; i++) {
                gate[i] = x[(i + round) % x.length];
                up[i] = x[(i + 7 * round + 3) % x.length];
            }
            check(gate, up, gate.length);
        }
    }
}
