package dev.vecllama.quant;

import dev.vecllama.gguf.GGMLType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Q4_0: per 32 weights d = −(the value of largest magnitude)/8, so that value maps exactly to code 0
 * and the 16 codes cover [−8, 7]·d; q = trunc(x/d + 8.5), at most 15. Weights j and j+16 share a byte.
 */
final class Q4_0Quantizer implements RowQuantizer {
    static final Q4_0Quantizer INSTANCE = new Q4_0Quantizer();

    private Q4_0Quantizer() {}

    @Override
    public GGMLType type() {
        return GGMLType.Q4_0;
    }

    @Override
    public void quantize(float[] x, int off, int n, MemorySegment dst, long at) {
        for (int b = 0; b < n / 32; b++, at += 18) {
            int o = off + b * 32;
            float amax = 0, max = 0;
            for (int j = 0; j < 32; j++) {
                if (amax < Math.abs(x[o + j])) {
                    amax = Math.abs(x[o + j]);
                    max = x[o + j];
                }
            }
            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            RowQuantizer.putF16(dst, at, d);
            for (int j = 0; j < 16; j++) {
                int lo = Math.min(15, (int) (x[o + j] * id + 8.5f));
                int hi = Math.min(15, (int) (x[o + 16 + j] * id + 8.5f));
                dst.set(ValueLayout.JAVA_BYTE, at + 2 + j, (byte) (lo | hi << 4));
            }
        }
    }
}
