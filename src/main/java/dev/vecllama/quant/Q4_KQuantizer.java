package dev.vecllama.quant;

import dev.vecllama.gguf.GGMLType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Q4_K: super-blocks of 256 = 8 sub-blocks of 32, each weight ≈ d·sc·q − dmin·m with q in 0..15 and
 * 6-bit sc, m per sub-block. Each sub-block's (scale, min) comes from llama.cpp's make_qkx2_quants
 * search: an affine least-squares refit over 21 candidate scales, weighted towards large weights;
 * the eight scales and mins are then themselves quantized to 6 bits against the super-block's
 * f16 d and dmin, and the codes recomputed with those stored values.
 * Layout: f16 d, f16 dmin, 12 bytes of packed scales/mins, 128 bytes of nibbles.
 */
final class Q4_KQuantizer implements RowQuantizer {
    static final Q4_KQuantizer INSTANCE = new Q4_KQuantizer();

    private Q4_KQuantizer() {}

    @Override
    public GGMLType type() {
        return GGMLType.Q4_K;
    }

    @Override
    public void quantize(float[] x, int off, int n, MemorySegment dst, long at) {
        byte[] codes = new byte[256];
        float[] weights = new float[32];
        float[] scales = new float[8], mins = new float[8];
        byte[] packed = new byte[12];
        for (int b = 0; b < n / 256; b++, at += 144) {
            int o = off + b * 256;
            float maxScale = 0, maxMin = 0;
            for (int j = 0; j < 8; j++) {
                float sumX2 = 0;
                for (int l = 0; l < 32; l++) sumX2 += x[o + 32 * j + l] * x[o + 32 * j + l];
                float avX = (float) Math.sqrt(sumX2 / 32);
                for (int l = 0; l < 32; l++) weights[l] = avX + Math.abs(x[o + 32 * j + l]);
                float[] scaleMin = affineSearch(x, o + 32 * j, weights, codes, 32 * j);
                scales[j] = scaleMin[0];
                mins[j] = scaleMin[1];
                maxScale = Math.max(maxScale, scales[j]);
                maxMin = Math.max(maxMin, mins[j]);
            }
            float invScale = maxScale > 0 ? 63f / maxScale : 0f;
            float invMin = maxMin > 0 ? 63f / maxMin : 0f;
            java.util.Arrays.fill(packed, (byte) 0);
            for (int j = 0; j < 8; j++) {
                int ls = Math.min(63, RowQuantizer.nearestInt(invScale * scales[j]) & 0xFF);
                int lm = Math.min(63, RowQuantizer.nearestInt(invMin * mins[j]) & 0xFF);
                if (j < 4) {
                    packed[j] = (byte) ls;
                    packed[j + 4] = (byte) lm;
                } else {
                    packed[j + 4] = (byte) ((ls & 0xF) | (lm & 0xF) << 4);
                    packed[j - 4] |= (byte) ((ls >> 4) << 6);
                    packed[j] |= (byte) ((lm >> 4) << 6);
                }
            }
            float d = RowQuantizer.roundF16(maxScale / 63f), dmin = RowQuantizer.roundF16(maxMin / 63f);
            RowQuantizer.putF16(dst, at, maxScale / 63f);
            RowQuantizer.putF16(dst, at + 2, maxMin / 63f);
            MemorySegment.copy(packed, 0, dst, ValueLayout.JAVA_BYTE, at + 4, 12);
            for (int j = 0; j < 8; j++) {
                float dj = d * sixBit(packed, j, false);
                if (dj == 0) continue;
                float dm = dmin * sixBit(packed, j, true);
                for (int l = 0; l < 32; l++) {
                    int q = RowQuantizer.nearestInt((x[o + 32 * j + l] + dm) / dj);
                    codes[32 * j + l] = (byte) Math.max(0, Math.min(15, q));
                }
            }
            for (int j = 0; j < 256; j += 64) {
                for (int l = 0; l < 32; l++) {
                    dst.set(ValueLayout.JAVA_BYTE, at + 16 + j / 2 + l, (byte) (codes[j + l] | codes[j + l + 32] << 4));
                }
            }
        }
    }

    /** Sub-block j's 6-bit scale (or min) from the 12 packed bytes (ggml's get_scale_min_k4). */
    static int sixBit(byte[] q, int j, boolean min) {
        if (j < 4) return q[j + (min ? 4 : 0)] & 63;
        return min ? ((q[j + 4] & 0xFF) >> 4) | ((q[j] & 0xFF) >> 6) << 4
                   : (q[j + 4] & 0xF) | ((q[j - 4] & 0xFF) >> 6) << 4;
    }

    /**
     * make_qkx2_quants for 32 weights, 4 bits (codes 0..15), rmin −1, rdelta 0.1, 20 steps, squared
     * error: returns {scale, min} with x ≈ scale·code − min, writing the codes into {@code codes[at ..]}.
     */
    static float[] affineSearch(float[] x, int o, float[] w, byte[] codes, int at) {
        final int n = 32, nmax = 15;
        float min = x[o], max = x[o];
        float sumW = w[0], sumX = sumW * x[o];
        for (int i = 1; i < n; i++) {
            min = Math.min(min, x[o + i]);
            max = Math.max(max, x[o + i]);
            sumW += w[i];
            sumX += w[i] * x[o + i];
        }
        if (min > 0) min = 0;
        if (max == min) {
            java.util.Arrays.fill(codes, at, at + n, (byte) 0);
            return new float[] {0f, -min};
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++) {
            int l = Math.max(0, Math.min(nmax, RowQuantizer.nearestInt(iscale * (x[o + i] - min))));
            codes[at + i] = (byte) l;
            float diff = scale * l + min - x[o + i];
            bestError += w[i] * (diff * diff);
        }
        byte[] aux = new byte[n];
        for (int is = 0; is <= 20; is++) {
            iscale = (-1f + 0.1f * is + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.max(0, Math.min(nmax, RowQuantizer.nearestInt(iscale * (x[o + i] - min))));
                aux[i] = (byte) l;
                sumL += w[i] * l;
                sumL2 += w[i] * l * l;
                sumXL += w[i] * l * x[o + i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0) {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float error = 0;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * aux[i] + thisMin - x[o + i];
                    error += w[i] * (diff * diff);
                }
                if (error < bestError) {
                    System.arraycopy(aux, 0, codes, at, n);
                    bestError = error;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        return new float[] {scale, -min};
    }
}
