package dev.vecllama.activation;

/**
 * Dynamic activation quantization: scales are computed from each block's absolute maximum at run
 * time. The rounding rules follow llama.cpp's x86 path (round half to even; a Q8_0 scale is stored
 * as f16; a Q8_K block maps its largest-magnitude value to -127), so that our products see the
 * same integers its kernels see.
 */
public final class ActivationQuantizer {
    private ActivationQuantizer() {}

    public static void roundToF16(float[] x, float[] out, int n) {
        for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(Float.floatToFloat16(x[i]));
    }

    public static void roundToBF16(float[] x, float[] out, int n) {
        for (int i = 0; i < n; i++) out[i] = bf16ToFloat(floatToBF16(x[i]));
    }

    /** Round to nearest even, as ggml's fp32 → bf16 conversion does (NaN kept quiet). */
    public static short floatToBF16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) return (short) ((bits >>> 16) | 64);
        return (short) ((bits + (0x7fff + ((bits >>> 16) & 1))) >>> 16);
    }

    public static float bf16ToFloat(short h) {
        return Float.intBitsToFloat((h & 0xffff) << 16);
    }

    public static void quantizeQ8_0(float[] x, int n, byte[] q, float[] scale) {
        for (int b = 0; b < n / 32; b++) {
            int o = b * 32;
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[o + j]));
            float d = amax / 127f;
            float id = amax != 0 ? 127f / amax : 0f;
            scale[b] = Float.float16ToFloat(Float.floatToFloat16(d));
            for (int j = 0; j < 32; j++) q[o + j] = (byte) Math.rint(x[o + j] * id);
        }
    }

    public static void quantizeQ8_K(float[] x, int n, byte[] q, float[] scale, short[] sums) {
        for (int b = 0; b < n / 256; b++) {
            int o = b * 256;
            float amax = 0, max = 0;
            for (int j = 0; j < 256; j++) {
                float ax = Math.abs(x[o + j]);
                if (ax > amax) {
                    amax = ax;
                    max = x[o + j];
                }
            }
            if (amax == 0) {
                scale[b] = 0;
                java.util.Arrays.fill(q, o, o + 256, (byte) 0);
                java.util.Arrays.fill(sums, o / 16, o / 16 + 16, (short) 0);
                continue;
            }
            float iscale = -127f / max;
            for (int j = 0; j < 256; j++) q[o + j] = (byte) Math.min(127, (int) Math.rint(iscale * x[o + j]));
            for (int g = 0; g < 16; g++) {
                int s = 0;
                for (int j = 0; j < 16; j++) s += q[o + g * 16 + j];
                sums[o / 16 + g] = (short) s;
            }
            scale[b] = 1 / iscale;
        }
    }
}
