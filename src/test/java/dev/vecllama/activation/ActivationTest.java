package dev.vecllama.activation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** One activation prepared in turn for the forms of a model's matrices: each form right, the floats untouched, and only the buffers used allocated. */
class ActivationTest {
    private static final int N = 512;

    private static Activation filled() {
        Activation a = new Activation(N);
        Random rnd = new Random(3);
        for (int i = 0; i < N; i++) a.f[i] = (float) rnd.nextGaussian() * 3.1f;
        return a;
    }

    @Test
    void eachFormFromTheSameFloats() {
        Activation a = filled();
        float[] original = a.f.clone();
        a.prepare(ActivationKind.F32);
        assertSame(a.f, a.rounded, "F32 reads the floats themselves");
        a.prepare(ActivationKind.F16);
        assertArrayEquals(original, a.f, "rounding to F16 leaves the floats as they were");
        float[] f16 = new float[N];
        ActivationQuantizer.roundToF16(original, f16, N);
        assertArrayEquals(f16, a.rounded);
        for (int i = 0; i < N; i++) assertEquals(f16[i] * Activation.HALF_SCALE, a.halfScaled[i]);
        a.prepare(ActivationKind.Q8_K);
        byte[] q = new byte[N];
        ActivationQuantizer.quantizeQ8_K(original, N, q, new float[N / 256], new short[N / 16]);
        assertArrayEquals(q, a.q);
        a.prepare(ActivationKind.BF16);
        float[] bf16 = new float[N];
        ActivationQuantizer.roundToBF16(original, bf16, N);
        assertArrayEquals(bf16, a.rounded);
        a.prepare(ActivationKind.F32);
        assertArrayEquals(original, a.rounded, "back to F32: the floats, not the last rounding");
    }

    @Test
    void onlyTheFormsPreparedHaveBuffers() {
        Activation a = filled();
        a.prepare(ActivationKind.Q8_K);
        assertNull(a.halfScaled, "no F16 copy for an int8 form");
        assertSame(a.f, a.rounded);
        Activation b = filled();
        b.prepare(ActivationKind.F16);
        assertNull(b.q, "no int8 buffers for a float form");
        assertNull(b.nibbleEvens);
    }
}
