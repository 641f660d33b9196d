package dev.vecllama.activation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vecllama.activation.Calibrator.Method;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Range methods on Gaussian activations with one far outlier, fed in batches of growing magnitude. */
class CalibratorTest {
    private static final int N = 400_000;

    private static float[] samples() {
        SplittableRandom r = new SplittableRandom(3);
        float[] x = new float[N];
        for (int i = 0; i < N; i++) x[i] = (float) r.nextGaussian();
        x[N / 2] = 20f;
        return x;
    }

    private static Calibrator calibrated(float[] x) {
        Calibrator c = new Calibrator();
        // Small batches first, so the histogram must grow its range as larger values arrive.
        for (int off = 0; off < N; off += 1000) c.add(java.util.Arrays.copyOfRange(x, off, off + 1000), 1000);
        return c;
    }

    /** Mean squared error of symmetric int8 quantization with clipping threshold t. */
    private static double mse(float[] x, float t) {
        double step = t / 127.0, e = 0;
        for (float v : x) {
            double q = Math.max(-127, Math.min(127, Math.rint(v / step))) * step;
            e += (v - q) * (v - q);
        }
        return e / x.length;
    }

    @Test
    void rangeMethods() {
        float[] x = samples();
        Calibrator c = calibrated(x);
        assertEquals(N, c.count());
        assertEquals(20f, c.threshold(Method.ABSMAX));
        // |N(0,1)| quantiles: 99.9 % → 3.29, 99.99 % → 3.89 (within a bin of the histogram)
        assertEquals(3.29, c.threshold(Method.P99_9), 0.06);
        assertEquals(3.89, c.threshold(Method.P99_99), 0.1);
        float tMse = c.threshold(Method.MSE), tKl = c.threshold(Method.ENTROPY);
        assertTrue(tMse > 2.5 && tMse < 8, "MSE threshold " + tMse);
        assertTrue(tKl > 2 && tKl < 8, "entropy threshold " + tKl);
        double mseAtOptimum = mse(x, tMse);
        assertTrue(mseAtOptimum < 0.5 * mse(x, 20f), "the outlier must not set the range");
        assertTrue(mseAtOptimum <= mse(x, c.threshold(Method.P99_9)) * 1.001, "MSE clipping beats the 99.9th percentile on MSE");
    }

    @Test
    void allZeroInputHasNoRange() {
        Calibrator c = new Calibrator();
        c.add(new float[64], 64);
        assertEquals(0f, c.threshold(Method.ENTROPY));
    }

    @Test
    void uniformInputKeepsNearlyItsWholeRange() {
        // Nothing stands out of a uniform distribution, so every method but the percentiles should keep almost all of it.
        SplittableRandom r = new SplittableRandom(5);
        Calibrator c = new Calibrator();
        float[] x = new float[100_000];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        c.add(x, x.length);
        float absmax = c.threshold(Method.ABSMAX);
        assertTrue(c.threshold(Method.ENTROPY) > 0.95 * absmax, "entropy " + c.threshold(Method.ENTROPY));
        assertTrue(c.threshold(Method.MSE) > 0.95 * absmax, "mse " + c.threshold(Method.MSE));
        assertEquals(0.999, c.threshold(Method.P99_9) / absmax, 0.002);
    }

    @Test
    void everyThresholdStaysWithinTheAbsoluteMaximum() {
        Calibrator c = calibrated(samples());
        for (Method m : Method.values()) assertTrue(c.threshold(m) > 0 && c.threshold(m) <= 20f, m + " " + c.threshold(m));
    }

    @Test
    void badInputIsRefused() {
        assertThrows(IllegalStateException.class, () -> new Calibrator().threshold(Method.MSE));
        Calibrator c = new Calibrator();
        assertThrows(IllegalArgumentException.class, () -> c.add(new float[] {1, Float.POSITIVE_INFINITY}, 2));
        assertThrows(IllegalArgumentException.class, () -> c.add(new float[] {Float.NaN}, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Method.parse("p99"));
        assertTrue(e.getMessage().contains("absmax, p99.9, p99.99, mse, entropy"), e.getMessage());
        assertEquals(Method.P99_99, Method.parse("P99.99"));
    }
}
