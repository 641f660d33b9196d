package dev.vecllama.quant;

import dev.vecllama.activation.Activation;
import dev.vecllama.activation.ActivationKind;
import dev.vecllama.gguf.GGMLType;
import dev.vecllama.kernel.VectorWidth;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Plain little-endian float32 weights. */
public final class F32 implements WeightFormat {
    public static final F32 INSTANCE = new F32();
    private static final VectorSpecies<Float> S = VectorWidth.FLOATS;
    private static final ValueLayout.OfFloat LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private F32() {}

    @Override
    public GGMLType type() {
        return GGMLType.F32;
    }

    @Override
    public ActivationKind activationKind() {
        return ActivationKind.F32;
    }

    @Override
    public void dequantize(MemorySegment w, long offset, float[] dst, int dstOff, int n) {
        MemorySegment.copy(w, LE, offset, dst, dstOff, n);
    }

    @Override
    public float dotReference(MemorySegment w, long offset, Activation a, int n) {
        float s = 0;
        for (int i = 0; i < n; i++) s += w.get(LE, offset + 4L * i) * a.rounded[i];
        return s;
    }

    @Override
    public float dot(MemorySegment w, long offset, Activation a, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            FloatVector wv = FloatVector.fromMemorySegment(S, w, offset + 4L * i, ByteOrder.LITTLE_ENDIAN);
            acc = wv.fma(FloatVector.fromArray(S, a.rounded, i), acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += w.get(LE, offset + 4L * i) * a.rounded[i];
        return s;
    }
}
