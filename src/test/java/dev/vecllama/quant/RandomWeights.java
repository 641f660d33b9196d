package dev.vecllama.quant;

import dev.vecllama.activation.Activation;
import dev.vecllama.activation.ActivationKind;
import dev.vecllama.gguf.GGMLType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

/**
 * Random but valid weight data for any format we implement, and random activations, for the tests and
 * the benchmarks. Quantized blocks get random bytes everywhere except their f16 scales, which are set
 * to finite values of a realistic size (random bits would include inf and NaN).
 */
public final class RandomWeights {
    private RandomWeights() {}

    /** A rows × cols matrix of type t in native memory from {@code arena}. */
    public static MemorySegment matrix(GGMLType t, int rows, int cols, Random rnd, Arena arena) {
        long bytes = t.bytesFor(cols) * rows;
        MemorySegment w = arena.allocate(bytes, 64);
        byte[] chunk = new byte[1 << 16];
        for (long o = 0; o < bytes; o += chunk.length) {
            rnd.nextBytes(chunk);
            MemorySegment.copy(chunk, 0, w, ValueLayout.JAVA_BYTE, o, (int) Math.min(chunk.length, bytes - o));
        }
        long blocks = bytes / t.typeSize;
        for (long b = 0; b < blocks; b++) {
            long o = b * t.typeSize;
            switch (t) {
                case F16 -> putF16(w, o, (float) rnd.nextGaussian() * 0.05f);
                case BF16 -> w.set(Half.LE_SHORT, o, dev.vecllama.activation.ActivationQuantizer.floatToBF16((float) rnd.nextGaussian() * 0.05f));
                case Q8_0, Q4_0 -> putF16(w, o, scale(rnd));
                case Q4_K -> {
                    putF16(w, o, scale(rnd));
                    putF16(w, o + 2, scale(rnd));
                }
                case Q6_K -> putF16(w, o + 208, scale(rnd));
                case TQ2_0, TQ1_0 -> putF16(w, o + t.typeSize - 2, scale(rnd));
                default -> throw new IllegalArgumentException(t.toString());
            }
        }
        return w;
    }

    static void putF16(MemorySegment w, long off, float v) {
        w.set(Half.LE_SHORT, off, Float.floatToFloat16(v));
    }

    private static float scale(Random rnd) {
        return 1e-3f + rnd.nextFloat() * 1e-2f;
    }

    /** n roughly normal activations, already prepared in {@code kind}. */
    public static Activation activation(int n, ActivationKind kind, Random rnd) {
        Activation a = new Activation(n);
        for (int i = 0; i < n; i++) a.f[i] = (float) rnd.nextGaussian();
        return a.prepare(kind);
    }
}
