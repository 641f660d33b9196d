package dev.vecllama.quant;

import dev.vecllama.activation.Activation;
import dev.vecllama.activation.ActivationKind;
import dev.vecllama.gguf.GGMLType;
import java.lang.foreign.MemorySegment;

/** bfloat16 weights (the high half of an f32), multiplied against bf16-rounded activations in f32. */
public final class BF16 implements RowKernel, LaneKernel {
    public static final BF16 INSTANCE = new BF16();

    private BF16() {}

    @Override
    public GGMLType type() {
        return GGMLType.BF16;
    }

    @Override
    public ActivationKind activationKind() {
        return ActivationKind.BF16;
    }

    @Override
    public void dequantize(MemorySegment w, long offset, float[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i++) dst[dstOff + i] = Half.bf16(w, offset + 2L * i);
    }

    @Override
    public float dotReference(MemorySegment w, long offset, Activation a, int n) {
        return HalfFloatDot.dotReference(w, offset, a.rounded, n, true);
    }

    @Override
    public void dotRows(MemorySegment w, long offset, long rowBytes, Activation a, int n, float[] out, int r0, int r1) {
        HalfFloatDot.dotRows(w, offset, rowBytes, a.rounded, n, true, out, r0, r1);
    }

    @Override
    public void matmul(MemorySegment w, long rowBytes, int cols, TokenLanes x, float[][] out, int r0, int r1) {
        HalfFloatDot.matmul(w, rowBytes, cols, x, out, r0, r1, true);
    }
}
