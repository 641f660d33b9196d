package dev.vecllama.activation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Static quantization: one scale for every block, rounding to nearest, clipping at ±127. */
class StaticQuantizerTest {
    private static final int N = 512;
    private static final float S = 0.01f;

    private static float[] input() {
        Random rnd = new Random(2);
        float[] x = new float[N];
        for (int i = 0; i < N; i++) x[i] = (float) (rnd.nextGaussian() * 0.6);
        x[7] = 5f; // far beyond 127 · S = 1.27: must clip
        x[300] = -5f;
        return x;
    }

    private static int expected(float x) {
        return (int) Math.max(-127, Math.min(127, Math.rint(x / S)));
    }

    private static Activation prepared(float[] x, ActivationMode mode, ActivationKind kind) {
        Activation a = new Activation(x.length);
        System.arraycopy(x, 0, a.f, 0, x.length);
        a.mode(mode, S);
        return a.prepare(kind);
    }

    @Test
    void q8_KUsesTheOneScaleAndClips() {
        float[] x = input();
        Activation a = prepared(x, ActivationMode.STATIC, ActivationKind.Q8_K);
        for (int b = 0; b < N / 256; b++) assertEquals(S, a.scale[b]);
        for (int i = 0; i < N; i++) assertEquals(expected(x[i]), a.q[i], "element " + i);
        assertEquals(127, a.q[7]);
        assertEquals(-127, a.q[300]);
        for (int g = 0; g < N / 16; g++) {
            int sum = 0;
            for (int j = 0; j < 16; j++) sum += a.q[g * 16 + j];
            assertEquals(sum, a.sums[g], "group " + g);
        }
    }

    @Test
    void q8_0UsesTheOneScaleAndClips() {
        float[] x = input();
        Activation a = prepared(x, ActivationMode.STATIC, ActivationKind.Q8_0);
        for (int b = 0; b < N / 32; b++) assertEquals(S, a.scale[b]);
        for (int i = 0; i < N; i++) assertEquals(expected(x[i]), a.q[i], "element " + i);
    }

    @Test
    void f32ModeLeavesFloats() {
        float[] x = input();
        Activation a = prepared(x, ActivationMode.F32, ActivationKind.Q8_K);
        assertEquals(ActivationKind.F32, a.kind());
        for (int i = 0; i < N; i++) assertEquals(x[i], a.rounded[i]);
    }

    @Test
    void zeroScaleGivesZeros() {
        float[] x = new float[256];
        x[3] = 1f;
        Activation a = new Activation(256);
        System.arraycopy(x, 0, a.f, 0, 256);
        a.mode(ActivationMode.STATIC, 0);
        a.prepare(ActivationKind.Q8_K);
        assertEquals(0, a.q[3]);
        assertEquals(0, a.sums[0]);
    }
}
