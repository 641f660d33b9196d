package dev.vecllama.activation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ActivationQuantizerTest {
    private static float[] random(int n, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rnd.nextGaussian() * Math.exp(rnd.nextGaussian()));
        return x;
    }

    @Test
    void q8_0RoundTripWithinHalfAStep() {
        int n = 1024;
        float[] x = random(n, 1);
        byte[] q = new byte[n];
        float[] scale = new float[n / 32];
        ActivationQuantizer.quantizeQ8_0(x, n, q, scale);
        for (int b = 0; b < n / 32; b++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b * 32 + j]));
            assertEquals(Float.float16ToFloat(Float.floatToFloat16(amax / 127)), scale[b], "scale is amax/127 rounded to f16");
            for (int j = 0; j < 32; j++) {
                int i = b * 32 + j;
                assertTrue(q[i] >= -127, "q never -128");
                // Half a step, plus 127 times the f16 rounding of the scale.
                float tol = 0.5f * scale[b] + 127 * scale[b] * 0x1p-11f;
                assertTrue(Math.abs(q[i] * scale[b] - x[i]) <= tol, "element " + i);
            }
        }
    }

    @Test
    void q8_KRoundTripAndSums() {
        int n = 1024;
        float[] x = random(n, 2);
        byte[] q = new byte[n];
        float[] scale = new float[n / 32];
        short[] sums = new short[n / 16];
        ActivationQuantizer.quantizeQ8_K(x, n, q, scale, sums);
        for (int b = 0; b < n / 256; b++) {
            int argmax = b * 256;
            for (int j = 0; j < 256; j++) if (Math.abs(x[b * 256 + j]) > Math.abs(x[argmax])) argmax = b * 256 + j;
            assertEquals(-127, q[argmax], "the largest magnitude maps to -127");
            for (int j = 0; j < 256; j++) {
                int i = b * 256 + j;
                assertTrue(Math.abs(q[i] * scale[b] - x[i]) <= 0.5f * Math.abs(scale[b]) * 1.0001f, "element " + i);
            }
        }
        for (int g = 0; g < n / 16; g++) {
            int s = 0;
            for (int j = 0; j < 16; j++) s += q[g * 16 + j];
            assertEquals(s, sums[g], "partial sum of group " + g);
        }
    }

    @Test
    void zeroBlocksQuantizeToZero() {
        int n = 512;
        float[] x = new float[n];
        for (int i = 256; i < n; i++) x[i] = i; // second half non-zero, to see blocks kept apart
        byte[] q = new byte[n];
        float[] scale = new float[n / 32];
        short[] sums = new short[n / 16];
        java.util.Arrays.fill(q, (byte) 5);
        java.util.Arrays.fill(sums, (short) 5);
        ActivationQuantizer.quantizeQ8_K(x, n, q, scale, sums);
        assertEquals(0f, scale[0]);
        for (int i = 0; i < 256; i++) assertEquals(0, q[i]);
        for (int g = 0; g < 16; g++) assertEquals(0, sums[g]);
        assertTrue(scale[1] != 0);

        ActivationQuantizer.quantizeQ8_0(x, n, q, scale);
        for (int b = 0; b < 8; b++) assertEquals(0f, scale[b]);
        for (int i = 0; i < 256; i++) assertEquals(0, q[i]);
    }
}
