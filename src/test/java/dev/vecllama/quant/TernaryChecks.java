package dev.vecllama.quant;

import dev.vecllama.activation.Activation;
import dev.vecllama.activation.ActivationKind;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

/**
 * The ternary kernels against their scalar reference at this JVM's vector width: {@link
 * Ternary#dot} must equal {@link Ternary#dotReference} bit for bit (both mirror llama.cpp's float
 * order), matvec must equal dot, and the reference must agree with Σ dequantize·a. {@link #main}
 * runs them in the child JVMs {@link TernaryTestBase} starts at 512, 256 and 128 bits.
 */
final class TernaryChecks {
    private TernaryChecks() {}

    static final int[] LENGTHS = {256, 512, 768, 2816, 4096};

    public static void main(String[] args) {
        for (Ternary f : new Ternary[] {TQ2_0.INSTANCE, TQ1_0.INSTANCE}) checkAll(f);
        System.out.println("ternary checks passed at " + Ternary.BITS + " bits");
    }

    static void checkAll(Ternary f) {
        checkRandom(f);
        checkZero(f);
        checkExtremes(f);
        checkLanes(f);
    }

    /** The lane kernel, where the format has one, on random rows and on all-+1 and mixed rows at ±65504. */
    static void checkLanes(Ternary f) {
        if (!(f instanceof LaneKernel)) return;
        Random rnd = new Random(200 + f.type().id);
        try (Arena arena = Arena.ofConfined()) {
            for (int n : LENGTHS) {
                int rows = 5;
                MemorySegment extreme = arena.allocate(f.type().bytesFor(n) * rows);
                extreme.fill((byte) 0xAA);
                long o = 0;
                for (int b = 0; o < extreme.byteSize(); o += f.type().typeSize, b++) {
                    if (b % 3 == 0) extreme.asSlice(o, f.type().typeSize).fill((byte) 0xF3);
                    RandomWeights.putF16(extreme, o + f.type().typeSize - 2, b % 2 == 0 ? 65504f : -65504f);
                }
                KernelChecks.compareLanes(f, n, rows, rnd, randomRows(f, rows, n, rnd, arena), extreme);
            }
        }
    }

    /** Random bytes everywhere (any byte decodes to some code in both paths), realistic scales. */
    static MemorySegment randomRows(Ternary f, int rows, int n, Random rnd, Arena arena) {
        MemorySegment w = arena.allocate(f.type().bytesFor(n) * rows);
        byte[] bytes = new byte[(int) w.byteSize()];
        rnd.nextBytes(bytes);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, w, 0, bytes.length);
        for (long o = 0; o < w.byteSize(); o += f.type().typeSize) {
            RandomWeights.putF16(w, o + f.type().typeSize - 2, (rnd.nextBoolean() ? 1 : -1) * (1e-3f + rnd.nextFloat() * 0.1f));
        }
        return w;
    }

    static void checkRandom(Ternary f) {
        Random rnd = new Random(f.type().id);
        try (Arena arena = Arena.ofConfined()) {
            for (int n : LENGTHS) {
                int rows = 3;
                compareRows(f, randomRows(f, rows, n, rnd, arena), rows, n, RandomWeights.activation(n, ActivationKind.Q8_K, rnd), "random");
            }
        }
    }

    static void checkZero(Ternary f) {
        int n = LENGTHS[2];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = randomRows(f, 1, n, new Random(1), arena);
            for (long o = 0; o < w.byteSize(); o += f.type().typeSize) RandomWeights.putF16(w, o + f.type().typeSize - 2, 0f);
            Activation a = RandomWeights.activation(n, ActivationKind.Q8_K, new Random(2));
            if (f.dot(w, 0, a, n) != 0 || f.dotReference(w, 0, a, n) != 0) throw new AssertionError(f.type() + ": zero scales give " + f.dot(w, 0, a, n));
            MemorySegment rw = randomRows(f, 1, n, new Random(3), arena);
            Activation zero = new Activation(n).prepare(ActivationKind.Q8_K);
            if (f.dot(rw, 0, zero, n) != 0) throw new AssertionError(f.type() + ": zero activation gives " + f.dot(rw, 0, zero, n));
        }
    }

    /** Every byte pattern that decodes to all −1, all +1 or mixed, at scales ±65504 and activations ±127. */
    static void checkExtremes(Ternary f) {
        int n = LENGTHS[3];
        try (Arena arena = Arena.ofConfined()) {
            for (int pattern : new int[] {0x00, 0xFF, 0xAA, 0x55, 0xF3}) {
                for (float d : new float[] {65504f, -65504f}) {
                    MemorySegment w = arena.allocate(f.type().bytesFor(n));
                    w.fill((byte) pattern);
                    for (long o = 0; o < w.byteSize(); o += f.type().typeSize) RandomWeights.putF16(w, o + f.type().typeSize - 2, d);
                    for (float x : new float[] {1000f, -1000f}) {
                        Activation a = new Activation(n);
                        for (int i = 0; i < n; i++) a.f[i] = (i % 3 == 0) ? -x : x;
                        a.prepare(ActivationKind.Q8_K);
                        compareRows(f, w, 1, n, a, "extreme 0x" + Integer.toHexString(pattern) + " d=" + d + " x=" + x);
                    }
                }
            }
        }
    }

    static void compareRows(Ternary f, MemorySegment w, int rows, int n, Activation a, String what) {
        long rowBytes = f.type().bytesFor(n);
        float[] out = new float[rows];
        f.matvec(w, rowBytes, n, a, out, 0, rows);
        KernelChecks.checkSubrange(f, w, rowBytes, rows, n, a, out, what);
        float[] dq = new float[n];
        for (int r = 0; r < rows; r++) {
            long off = r * rowBytes;
            float v = f.dot(w, off, a, n), ref = f.dotReference(w, off, a, n);
            f.dequantize(w, off, dq, 0, n);
            double exact = 0, mag = 0;
            for (int i = 0; i < n; i++) {
                double x = (double) dq[i] * a.q[i] * a.scale[i / 256];
                exact += x;
                mag += Math.abs(x);
            }
            String id = f.type() + " n=" + n + " row " + r + " (" + what + ", " + Ternary.BITS + " bits)";
            if (Float.floatToRawIntBits(v) != Float.floatToRawIntBits(ref)) throw new AssertionError(id + ": dot " + v + " != reference " + ref);
            if (out[r] != v) throw new AssertionError(id + ": matvec " + out[r] + " != dot " + v);
            if (Math.abs(ref - exact) > 1e-5 * mag + 1e-30) throw new AssertionError(id + ": reference " + ref + " != Σ dequantize·a " + exact);
        }
    }
}
