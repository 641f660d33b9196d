package dev.vecllama.quant;

import dev.vecllama.gguf.GGMLType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Q8_0: per 32 weights d = absmax/127 (stored f16) and q = round(x/d), half away from zero (C's roundf). */
final class Q8_0Quantizer implements RowQuantizer {
    static final Q8_0Quantizer INSTANCE = new Q8_0Quantizer();

    private Q8_0Quantizer() {}

    @Override
    public GGMLType type() {
        return GGMLType.Q8_0;
    }

    @Override
    public void quantize(float[] x, int off, int n, MemorySegment dst, long at) {
        for (int b = 0; b < n / 32; b++, at += 34) {
            int o = off + b * 32;
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[o + j]));
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            RowQuantizer.putF16(dst, at, d);
            for (int j = 0; j < 32; j++) dst.set(ValueLayout.JAVA_BYTE, at + 2 + j, (byte) roundHalfAway(x[o + j] * id));
        }
    }

    static int roundHalfAway(float v) {
        float a = Math.abs(v);
        float whole = (float) Math.floor(a);
        int r = (int) whole + (a - whole >= 0.5f ? 1 : 0);
        return v < 0 ? -r : r;
    }
}
