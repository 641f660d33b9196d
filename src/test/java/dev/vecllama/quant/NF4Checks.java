package dev.vecllama.quant;

import dev.vecllama.activation.Activation;
import dev.vecllama.activation.ActivationKind;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

/**
 * NF4's vector dot against its scalar reference, both layouts, at this JVM's vector width; run by
 * {@link KernelChecks#checkAll}, so {@link VectorWidthsTest} covers 512, 256 and 128 bits too.
 */
final class NF4Checks {
    private NF4Checks() {}

    static final NF4[] FORMATS = {NF4.INSTANCE, NF4.DOUBLE_QUANT};
    /** One block, an odd count, many; and 259 blocks, which spill into a second double-quant group. */
    static final int[] LENGTHS = {64, 192, 320, 4096, 259 * 64};

    static void checkAll() {
        for (NF4 f : FORMATS) {
            checkRandom(f);
            checkZero(f);
            checkExtremes(f);
        }
    }

    /**
     * Normal weights whose scale varies from block to block by up to {@code 10^decades}, so that every
     * code and a spread of double-quant scale codes occur.
     */
    static float[] weights(int n, int decades, Random rnd) {
        float[] x = new float[n];
        for (int b = 0; b < n / NF4.BLOCK; b++) {
            float scale = (float) Math.pow(10, -decades * rnd.nextFloat());
            for (int j = 0; j < NF4.BLOCK; j++) x[b * NF4.BLOCK + j] = (float) rnd.nextGaussian() * scale;
        }
        return x;
    }

    /** {@code rows} rows of {@code src} (row-major, n wide) quantized into native memory. */
    static MemorySegment quantize(NF4 f, float[][] rows, int n, Arena arena) {
        long rowBytes = f.rowBytes(n);
        MemorySegment w = arena.allocate(rowBytes * rows.length, 64);
        for (int r = 0; r < rows.length; r++) f.quantize(rows[r], 0, n, w, r * rowBytes);
        return w;
    }

    static void checkRandom(NF4 f) {
        Random rnd = new Random(f == NF4.INSTANCE ? 1 : 2);
        try (Arena arena = Arena.ofConfined()) {
            for (int n : LENGTHS) {
                float[][] rows = {weights(n, 3, rnd), weights(n, 3, rnd), weights(n, 3, rnd)};
                MemorySegment w = quantize(f, rows, n, arena);
                compareRows(f, w, rows.length, n, RandomWeights.activation(n, ActivationKind.F32, rnd), "random");
            }
        }
    }

    static void checkZero(NF4 f) {
        int n = LENGTHS[2];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment zeros = quantize(f, new float[][] {new float[n]}, n, arena);
            Activation a = RandomWeights.activation(n, ActivationKind.F32, new Random(1));
            float v = f.dot(zeros, 0, a, n), r = f.dotReference(zeros, 0, a, n);
            if (v != 0 || r != 0) throw new AssertionError(f + " zero weights: dot " + v + ", reference " + r);
            MemorySegment w = quantize(f, new float[][] {weights(n, 3, new Random(2))}, n, arena);
            Activation zero = new Activation(n).prepare(ActivationKind.F32);
            if (f.dot(w, 0, zero, n) != 0) throw new AssertionError(f + " zero activation: dot " + f.dot(w, 0, zero, n));
        }
    }

    /**
     * Every code at −1 or +1 (nibbles 0 and 15, in both halves of a byte), the scale at f16's largest
     * value, activations at ±1000.
     */
    static void checkExtremes(NF4 f) {
        int n = LENGTHS[3];
        try (Arena arena = Arena.ofConfined()) {
            for (int pattern = 0; pattern < 4; pattern++) {
                float[] row = new float[n];
                for (int i = 0; i < n; i++) {
                    boolean negative = switch (pattern) {
                        case 0 -> true;
                        case 1 -> false;
                        case 2 -> i % 2 == 0;
                        default -> i % NF4.BLOCK < 32;
                    };
                    row[i] = negative ? -65504f : 65504f;
                }
                MemorySegment w = quantize(f, new float[][] {row}, n, arena);
                for (float x : new float[] {1000f, -1000f}) {
                    Activation a = new Activation(n);
                    for (int i = 0; i < n; i++) a.f[i] = (i % 3 == 0) ? -x : x;
                    compareRows(f, w, 1, n, a.prepare(ActivationKind.F32), "extreme pattern " + pattern + " x=" + x);
                }
            }
        }
    }

    /**
     * dot against dotReference (bit for bit), matvec against dot, and dotReference against
     * Σ dequantize(w)·a, which checks the reference's decoding independently of its summation order.
     */
    static void compareRows(NF4 f, MemorySegment w, int rows, int n, Activation a, String what) {
        long rowBytes = f.rowBytes(n);
        float[] out = new float[rows];
        f.matvec(w, rowBytes, n, a, out, 0, rows);
        float[] dq = new float[n];
        for (int r = 0; r < rows; r++) {
            long off = r * rowBytes;
            float v = f.dot(w, off, a, n), ref = f.dotReference(w, off, a, n);
            f.dequantize(w, off, dq, 0, n);
            double exact = 0, mag = 0;
            for (int i = 0; i < n; i++) {
                exact += (double) dq[i] * a.rounded[i];
                mag += Math.abs((double) dq[i] * a.rounded[i]);
            }
            String id = f + " n=" + n + " row " + r + " (" + what + ", " + VectorMath.BITS + " bits)";
            if (Float.floatToRawIntBits(v) != Float.floatToRawIntBits(ref)) throw new AssertionError(id + ": dot " + v + " != reference " + ref);
            if (out[r] != v) throw new AssertionError(id + ": matvec " + out[r] + " != dot " + v);
            if (Math.abs(ref - exact) > 2e-5 * mag + 1e-30) throw new AssertionError(id + ": reference " + ref + " != Σ dequantize·a " + exact);
        }
    }
}
