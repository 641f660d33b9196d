package dev.vecllama.quant;

import static dev.vecllama.quant.TQ1_0.QH;
import static dev.vecllama.quant.TQ1_0.QS;
import static dev.vecllama.quant.TQ1_0.QS_TAIL;

import dev.vecllama.gguf.GGMLType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Float weights → TQ1_0/TQ2_0, as llama.cpp's quantize_row_tq1_0_ref/tq2_0_ref: per block of 256,
 * d = absmax (stored f16, the last two bytes of the block in both formats) and code = round(x/d) + 1,
 * rounding half away from zero (C's lroundf). Not BitNet's absmean: that scale belongs to training,
 * and a ternary-trained tensor holds only 0 and ±d per block, so absmax gives back exactly its d and
 * codes (llama.cpp's files of such a model are lossless). On weights not trained ternary, most round to 0.
 */
enum TernaryQuantizer implements RowQuantizer {
    /** Each byte's trits, the first one most significant, form t below 3^5, stored as ⌈t·256 / 243⌉; qh's four are shifted up one trit first (see {@link TQ1_0}). */
    TQ1_0(GGMLType.TQ1_0) {
        @Override
        void pack(float[] x, int o, float id, MemorySegment dst, long at) {
            for (int m = 0; m < 32; m++) put(dst, at + QS + m, trits(x, o + m, 32, 5, id));
            for (int m = 0; m < 16; m++) put(dst, at + QS_TAIL + m, trits(x, o + 160 + m, 16, 5, id));
            for (int j = 0; j < 4; j++) put(dst, at + QH + j, 3 * trits(x, o + 240 + j, 4, 4, id));
        }
    },
    /** Element 128r + 32l + m of a block is bits 2l, 2l + 1 of byte 32r + m (see {@link TQ2_0}). */
    TQ2_0(GGMLType.TQ2_0) {
        @Override
        void pack(float[] x, int o, float id, MemorySegment dst, long at) {
            for (int run = 0; run < 2; run++) {
                for (int m = 0; m < 32; m++) {
                    int q = 0;
                    for (int l = 0; l < 4; l++) q |= (code(x[o + 128 * run + 32 * l + m], id) & 3) << (2 * l);
                    dst.set(ValueLayout.JAVA_BYTE, at + 32 * run + m, (byte) q);
                }
            }
        }
    };

    private final GGMLType type;

    TernaryQuantizer(GGMLType type) {
        this.type = type;
    }

    @Override
    public GGMLType type() {
        return type;
    }

    /** Writes the codes of the 256 weights {@code x[o ..]}, given 1/d, into the block at {@code at}. */
    abstract void pack(float[] x, int o, float id, MemorySegment dst, long at);

    @Override
    public void quantize(float[] x, int off, int n, MemorySegment dst, long at) {
        for (int b = 0; b < n / Ternary.BLOCK; b++, at += type.typeSize) {
            int o = off + b * Ternary.BLOCK;
            float amax = 0;
            for (int j = 0; j < Ternary.BLOCK; j++) amax = Math.max(amax, Math.abs(x[o + j]));
            RowQuantizer.putF16(dst, at + type.typeSize - 2, amax);
            pack(x, o, amax != 0 ? 1.0f / amax : 0.0f, dst, at);
        }
    }

    /** The code 0, 1 or 2 of weight v scaled by 1/d. */
    static int code(float v, float id) {
        return Q8_0Quantizer.roundHalfAway(v * id) + 1;
    }

    /** The n codes of x[i], x[i + stride], ... as a base-3 number, the first code most significant. */
    private static int trits(float[] x, int i, int stride, int n, float id) {
        int t = 0;
        for (int k = 0; k < n; k++) t = 3 * t + code(x[i + k * stride], id);
        return t;
    }

    private static void put(MemorySegment dst, long at, int t) {
        dst.set(ValueLayout.JAVA_BYTE, at, (byte) ((t * 256 + 242) / 243));
    }
}
