package dev.vecllama.activation;

/**
 * Static activation quantization: every block of a tensor input uses the one scale calibration
 * chose for it, q = clamp(round(x / s), -127, 127). There is no absmax scan, and values beyond the
 * calibrated range clip; the block layout is the dynamic quantizer's, so the kernels are the same.
 */
public final class StaticQuantizer {
    private StaticQuantizer() {}

    public static void quantizeQ8_0(float[] x, int n, float s, byte[] q, float[] scale) {
        quantize(x, n, s, q);
        java.util.Arrays.fill(scale, 0, n / 32, s);
    }

    public static void quantizeQ8_K(float[] x, int n, float s, byte[] q, float[] scale, short[] sums) {
        quantize(x, n, s, q);
        java.util.Arrays.fill(scale, 0, n / 256, s);
        for (int g = 0; g < n / 16; g++) {
            int sum = 0;
            for (int j = 0; j < 16; j++) sum += q[g * 16 + j];
            sums[g] = (short) sum;
        }
    }

    /** A zero scale (an input that was all zeros during calibration) quantizes everything to 0. */
    private static void quantize(float[] x, int n, float s, byte[] q) {
        float inv = s > 0 ? 1 / s : 0;
        for (int i = 0; i < n; i++) q[i] = (byte) Math.max(-127, Math.min(127, (int) Math.rint(x[i] * inv)));
    }
}
