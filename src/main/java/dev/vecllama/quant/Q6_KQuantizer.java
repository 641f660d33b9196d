package dev.vecllama.quant;

import dev.vecllama.gguf.GGMLType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Q6_K: super-blocks of 256 = 16 groups of 16, weight ≈ d·scale[g]·(q − 32) with q in 0..63 and an
 * int8 scale per group. Each group's scale comes from llama.cpp's make_qx_quants search (symmetric,
 * 19 candidate scales around 32/max, squared-magnitude weighting, least-squares refit); the 16
 * scales are then quantized to int8 against one f16 d, and codes recomputed with the stored values.
 * Layout: ql[128] low nibbles, qh[64] high 2 bits, int8 scales[16], f16 d.
 */
final class Q6_KQuantizer implements RowQuantizer {
    static final Q6_KQuantizer INSTANCE = new Q6_KQuantizer();
    /** ggml's GROUP_MAX_EPS: below this a group counts as all zero. */
    private static final float EPS = 1e-15f;

    private Q6_KQuantizer() {}

    @Override
    public GGMLType type() {
        return GGMLType.Q6_K;
    }

    @Override
    public void quantize(float[] x, int off, int n, MemorySegment dst, long at) {
        byte[] codes = new byte[256];
        float[] scales = new float[16];
        for (int b = 0; b < n / 256; b++, at += 210) {
            int o = off + b * 256;
            float maxScale = 0, maxAbsScale = 0;
            for (int g = 0; g < 16; g++) {
                scales[g] = symmetricSearch(x, o + 16 * g, codes, 16 * g);
                if (Math.abs(scales[g]) > maxAbsScale) {
                    maxAbsScale = Math.abs(scales[g]);
                    maxScale = scales[g];
                }
            }
            if (maxAbsScale < EPS) {
                dst.asSlice(at, 210).fill((byte) 0);
                continue;
            }
            float iscale = -128f / maxScale;
            float d = RowQuantizer.roundF16(1 / iscale);
            RowQuantizer.putF16(dst, at + 208, 1 / iscale);
            for (int g = 0; g < 16; g++) {
                byte sc = (byte) Math.min(127, RowQuantizer.nearestInt(iscale * scales[g]));
                dst.set(ValueLayout.JAVA_BYTE, at + 192 + g, sc);
                float dg = d * sc;
                if (dg == 0) continue;
                for (int i = 0; i < 16; i++) {
                    int q = RowQuantizer.nearestInt(x[o + 16 * g + i] / dg);
                    codes[16 * g + i] = (byte) (Math.max(-32, Math.min(31, q)) + 32);
                }
            }
            for (int j = 0; j < 256; j += 128) {
                long ql = at + j / 2, qh = at + 128 + j / 4;
                for (int l = 0; l < 32; l++) {
                    int c0 = codes[j + l], c1 = codes[j + l + 32], c2 = codes[j + l + 64], c3 = codes[j + l + 96];
                    dst.set(ValueLayout.JAVA_BYTE, ql + l, (byte) ((c0 & 0xF) | (c2 & 0xF) << 4));
                    dst.set(ValueLayout.JAVA_BYTE, ql + l + 32, (byte) ((c1 & 0xF) | (c3 & 0xF) << 4));
                    dst.set(ValueLayout.JAVA_BYTE, qh + l, (byte) (c0 >> 4 | (c1 >> 4) << 2 | (c2 >> 4) << 4 | (c3 >> 4) << 6));
                }
            }
        }
    }

    /**
     * make_qx_quants for 16 weights, nmax 32 (codes −32..31), weights x²: returns the scale, writing
     * codes + 32 into {@code codes[at ..]}.
     */
    static float symmetricSearch(float[] x, int o, byte[] codes, int at) {
        final int n = 16, nmax = 32;
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++) {
            float ax = Math.abs(x[o + i]);
            if (ax > amax) {
                amax = ax;
                max = x[o + i];
            }
        }
        if (amax < EPS) {
            java.util.Arrays.fill(codes, at, at + n, (byte) 0);
            return 0f;
        }
        float iscale = -nmax / max;
        float sumLX = 0, sumL2 = 0;
        for (int i = 0; i < n; i++) {
            int l = clamp(RowQuantizer.nearestInt(iscale * x[o + i]), nmax);
            codes[at + i] = (byte) (l + nmax);
            float w = x[o + i] * x[o + i];
            sumLX += w * x[o + i] * l;
            sumL2 += w * l * l;
        }
        float scale = sumL2 != 0 ? sumLX / sumL2 : 0f;
        float best = scale * sumLX;
        for (int is = -9; is <= 9; is++) {
            if (is == 0) continue;
            iscale = -(nmax + 0.1f * is) / max;
            sumLX = 0;
            sumL2 = 0;
            for (int i = 0; i < n; i++) {
                int l = clamp(RowQuantizer.nearestInt(iscale * x[o + i]), nmax);
                float w = x[o + i] * x[o + i];
                sumLX += w * x[o + i] * l;
                sumL2 += w * l * l;
            }
            if (sumL2 > 0 && sumLX * sumLX > best * sumL2) {
                for (int i = 0; i < n; i++) {
                    codes[at + i] = (byte) (nmax + clamp(RowQuantizer.nearestInt(iscale * x[o + i]), nmax));
                }
                scale = sumLX / sumL2;
                best = scale * sumLX;
            }
        }
        return scale;
    }

    private static int clamp(int l, int nmax) {
        return Math.max(-nmax, Math.min(nmax - 1, l));
    }
}
