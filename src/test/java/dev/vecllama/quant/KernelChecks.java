package dev.vecllama.quant;

import dev.vecllama.activation.Activation;
import dev.vecllama.activation.ActivationKind;
import dev.vecllama.activation.ActivationQuantizer;
import dev.vecllama.activation.QuantizerChecks;
import dev.vecllama.gguf.GGMLType;
import dev.vecllama.kernel.SwigluChecks;
import dev.vecllama.model.AttentionChecks;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

/**
 * The vector kernels against the scalar references, for every format and for attention, at whatever
 * vector width this JVM runs ({@link VectorMath#BITS}). Shared by {@link VectorDotTest} (in process) and
 * {@link VectorWidthsTest}, which runs {@link #main} in child JVMs at 512, 256 and 128 bits.
 */
final class KernelChecks {
    private KernelChecks() {}

    static final GGMLType[] TYPES = {GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_K, GGMLType.Q6_K};

    /** Row lengths per block size: one block, a few, an odd count, many. */
    static int[] lengths(GGMLType t) {
        return switch (t.blockSize) {
            case 1 -> new int[] {1, 7, 16, 33, 100, 256, 1000, 4096};
            case 32 -> new int[] {32, 64, 96, 256, 800, 4096};
            default -> new int[] {256, 512, 768, 2816, 4096};
        };
    }

    public static void main(String[] args) {
        checkAll();
        System.out.println("kernel checks passed at " + VectorMath.BITS + " bits");
    }

    static void checkAll() {
        for (GGMLType t : TYPES) {
            checkRandom(t);
            checkZero(t);
            checkExtremes(t);
            checkLanes(t);
        }
        checkSpecialScales();
        NF4Checks.checkAll();
        checkHalfConversion();
        AttentionChecks.checkAll();
        QuantizerChecks.checkAll();
        SwigluChecks.checkAll();
    }

    /**
     * Random rows, enough that multi-row matvec kernels (8 or 16 rows at a time) run whole groups and
     * a remainder; each activation also as a member of a batch's 4-row group ({@link Activation#quad}),
     * which for Q4_K must change the float order (llama.cpp's gemm) and so, somewhere, the result.
     */
    static void checkRandom(GGMLType t) {
        WeightFormat f = WeightFormat.of(t);
        Random rnd = new Random(t.ordinal());
        boolean quadDiffers = false;
        try (Arena arena = Arena.ofConfined()) {
            for (int n : lengths(t)) {
                int rows = 19;
                MemorySegment w = RandomWeights.matrix(t, rows, n, rnd, arena);
                Activation a = RandomWeights.activation(n, f.activationKind(), rnd);
                compareRows(f, w, rows, n, a, "random");
                float[] single = new float[rows];
                for (int r = 0; r < rows; r++) single[r] = f.dotReference(w, r * t.bytesFor(n), a, n);
                a.prepare(f.activationKind(), true, true);
                compareRows(f, w, rows, n, a, "random, 4-row group");
                for (int r = 0; r < rows; r++) quadDiffers |= single[r] != f.dotReference(w, r * t.bytesFor(n), a, n);
            }
        }
        if (t == GGMLType.Q4_K && !quadDiffers) throw new AssertionError("Q4_K: the 4-row group order never changed a result");
    }

    /**
     * Q4_K rows whose d and dmin are the f16 values a vector conversion can get wrong: zeros of both
     * signs, subnormals, the smallest normal, the largest finite, infinities and a NaN, each block its
     * own pair. matvec (8 rows at a time, where the vector width allows) against dot and
     * dotReference (a row alone, scalar conversions), bit for bit, NaN for NaN.
     */
    static void checkSpecialScales() {
        GGMLType t = GGMLType.Q4_K;
        WeightFormat f = WeightFormat.of(t);
        short[] special = {0x0000, (short) 0x8000, 0x0001, (short) 0x8001, 0x03FF, 0x0400, 0x3C00, 0x7BFF, (short) 0xFBFF, 0x7C00, (short) 0xFC00, 0x7E00};
        Random rnd = new Random(7);
        int n = 4096, rows = 19;
        long rowBytes = t.bytesFor(n);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = RandomWeights.matrix(t, rows, n, rnd, arena);
            for (long o = 0; o < rowBytes * rows; o += t.typeSize) {
                w.set(Half.LE_SHORT, o, special[rnd.nextInt(special.length)]);
                w.set(Half.LE_SHORT, o + 2, special[rnd.nextInt(special.length)]);
            }
            // Most rows without an infinity or NaN, so that finite results are compared too.
            for (int r = 0; r < rows; r += 2) {
                for (long o = r * rowBytes; o < (r + 1) * rowBytes; o += t.typeSize) {
                    w.set(Half.LE_SHORT, o, special[rnd.nextInt(9)]);
                    w.set(Half.LE_SHORT, o + 2, special[rnd.nextInt(9)]);
                }
            }
            Activation a = RandomWeights.activation(n, f.activationKind(), rnd);
            float[] out = new float[rows];
            f.matvec(w, rowBytes, n, a, out, 0, rows);
            int finite = 0;
            for (int r = 0; r < rows; r++) {
                float dot = f.dot(w, r * rowBytes, a, n), ref = f.dotReference(w, r * rowBytes, a, n);
                if (Float.floatToIntBits(out[r]) != Float.floatToIntBits(dot) || Float.floatToIntBits(dot) != Float.floatToIntBits(ref)) {
                    throw new AssertionError("Q4_K special scales, row " + r + " (" + VectorMath.BITS + " bits): matvec " + out[r] + ", dot " + dot + ", reference " + ref);
                }
                if (Float.isFinite(ref) && ref != 0) finite++;
            }
            if (finite < rows / 3) throw new AssertionError("Q4_K special scales: only " + finite + " rows finite and nonzero");
        }
    }

    /**
     * A format's {@link LaneKernel} against its dot, bit for bit, for every token it takes: random,
     * zero and extreme weights (codes at their limits, scales at ±65504), random and ±127 activations;
     * an odd row range (the kernels go two rows at a time); and a batch whose complete groups of 4
     * end inside a lane group, where the lanes must stop.
     */
    static void checkLanes(GGMLType t) {
        if (!(WeightFormat.of(t) instanceof LaneKernel)) return;
        Random rnd = new Random(100 + t.ordinal());
        try (Arena arena = Arena.ofConfined()) {
            for (int n : lengths(t)) {
                int rows = 7;
                long rowBytes = t.bytesFor(n);
                MemorySegment extreme = arena.allocate(rowBytes * rows);
                for (int r = 0; r < rows; r++) {
                    MemorySegment.copy(extremeRow(t, n, (byte) (r % 2 == 0 ? 0xFF : 0x80), r % 3 == 0 ? -65504f : 65504f, arena), 0, extreme, r * rowBytes, rowBytes);
                }
                compareLanes(WeightFormat.of(t), n, rows, rnd,
                        RandomWeights.matrix(t, rows, n, rnd, arena), arena.allocate(rowBytes * rows), extreme);
            }
        }
    }

    /**
     * The lane kernel of {@code f} against its dot for every token it takes, on each of the matrices
     * {@code ws} (rows × n): random, ±127 and +127 activations, an odd row range, three groups of tokens
     * (the kernels that take two groups at a time then take one alone too), and a batch whose complete
     * groups of 4 end inside a lane group, where the lanes must stop.
     */
    static void compareLanes(WeightFormat f, int n, int rows, Random rnd, MemorySegment... ws) {
        LaneKernel k = (LaneKernel) f;
        int width = TokenLanes.WIDTH, tokens = 3 * width + 3;
        long rowBytes = f.rowBytes(n);
        // x as MatMulJob prepares a batch: the tokens the lanes take without the row kernels' widened
        // codes, which the lanes must not need; the same vectors with them for the dots they are compared with.
        Activation[] x = new Activation[tokens], widened = new Activation[tokens];
        for (int i = 0; i < tokens; i++) {
            x[i] = new Activation(n);
            widened[i] = new Activation(n);
            // Every fifth token ±127 of mixed signs, every seventh +127 throughout: the largest sums the 16-bit lanes of the pair kernels meet.
            for (int j = 0; j < n; j++) x[i].f[j] = i % 5 == 4 ? (j % 3 == 0 ? -1000f : 1000f) : i % 7 == 6 ? 1000f : (float) rnd.nextGaussian();
            System.arraycopy(x[i].f, 0, widened[i].f, 0, n);
            x[i].prepare(f.activationKind(), i < tokens - 3, i >= TokenLanes.tokensTaken(tokens));
            widened[i].prepare(f.activationKind(), i < tokens - 3, true);
        }
        TokenLanes lanes = new TokenLanes();
        // Only the forms the kernel says it reads, as MatMulJob fills them.
        boolean pairs = k.readsPairs();
        if (lanes.fill(x, 0, tokens, !pairs, pairs) != 3 * width) throw new AssertionError(f.type() + ": lanes took " + lanes.tokens() + " of " + tokens + " tokens");
        for (MemorySegment w : ws) {
            float[][] out = new float[tokens][rows];
            k.matmul(w, rowBytes, n, lanes, out, 1, rows);
            for (int i = 0; i < lanes.tokens(); i++) {
                for (int r = 1; r < rows; r++) {
                    float expected = f.dot(w, r * rowBytes, widened[i], n);
                    if (Float.floatToRawIntBits(out[i][r]) != Float.floatToRawIntBits(expected)) {
                        throw new AssertionError(f.type() + " n=" + n + " row " + r + " token " + i + " (" + VectorMath.BITS + " bits): lanes " + out[i][r] + " != dot " + expected);
                    }
                }
            }
        }
        x[2 * width - 1].prepare(f.activationKind(), false, true);
        if (lanes.fill(x, 0, tokens, !pairs, pairs) != width) throw new AssertionError(f.type() + ": lanes took a token outside the batch's groups of 4");
    }

    static void checkZero(GGMLType t) {
        WeightFormat f = WeightFormat.of(t);
        // Long enough for every multi-row kernel (Q4_K's 8 rows at a time need 4 super-blocks).
        int n = lengths(t)[3];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = arena.allocate(t.bytesFor(n));
            Activation a = RandomWeights.activation(n, f.activationKind(), new Random(1));
            float v = f.dot(w, 0, a, n), r = f.dotReference(w, 0, a, n);
            if (v != 0 || r != 0) throw new AssertionError(t + " zero weights: dot " + v + ", reference " + r);
            Activation zero = new Activation(n).prepare(f.activationKind());
            MemorySegment rw = RandomWeights.matrix(t, 1, n, new Random(2), arena);
            if (f.dot(rw, 0, zero, n) != 0) throw new AssertionError(t + " zero activation: dot " + f.dot(rw, 0, zero, n));
            // And as a matrix, through the kernels that take rows 8 or 16 at a time.
            int rows = 9;
            float[] out = new float[rows];
            f.matvec(arena.allocate(t.bytesFor(n) * rows), t.bytesFor(n), n, a, out, 0, rows);
            for (float v2 : out) if (v2 != 0) throw new AssertionError(t + " zero weights: matvec " + v2);
            f.matvec(RandomWeights.matrix(t, rows, n, new Random(3), arena), t.bytesFor(n), n, zero, out, 0, rows);
            for (float v2 : out) if (v2 != 0) throw new AssertionError(t + " zero activation: matvec " + v2);
        }
    }

    /**
     * Every quantized code at its most negative or largest (int8 −128, nibble 15, 6-bit 63 and 0),
     * scales at ±65504 (the largest f16), activations at ±127, of mixed signs and of one sign.
     */
    static void checkExtremes(GGMLType t) {
        WeightFormat f = WeightFormat.of(t);
        int n = lengths(t)[3];
        try (Arena arena = Arena.ofConfined()) {
            for (int pattern : new int[] {0x80, 0xFF, 0x7F, 0x00}) {
                for (float d : new float[] {65504f, -65504f}) {
                    // 9 rows: the kernels that take 8 rows at a time run one group and one row alone.
                    int rows = 9;
                    long rowBytes = t.bytesFor(n);
                    MemorySegment row = extremeRow(t, n, (byte) pattern, d, arena), w = arena.allocate(rowBytes * rows);
                    for (int r = 0; r < rows; r++) MemorySegment.copy(row, 0, w, r * rowBytes, rowBytes);
                    // Mixed signs, and one sign throughout: the largest partial sums a kernel's 16-bit lanes meet.
                    for (float x : new float[] {1000f, -1000f}) {
                        for (boolean mixed : new boolean[] {true, false}) {
                            Activation a = new Activation(n);
                            for (int i = 0; i < n; i++) a.f[i] = mixed && i % 3 == 0 ? -x : x;
                            a.prepare(f.activationKind());
                            compareRows(f, w, rows, n, a, "extreme 0x" + Integer.toHexString(pattern) + " d=" + d + " x=" + x + (mixed ? " mixed" : ""));
                        }
                    }
                }
            }
        }
    }

    private static MemorySegment extremeRow(GGMLType t, int n, byte pattern, float d, Arena arena) {
        MemorySegment w = arena.allocate(t.bytesFor(n));
        w.fill(pattern);
        for (long o = 0; o < w.byteSize(); o += t.typeSize) {
            switch (t) {
                // Float formats: every weight at the largest finite magnitude the activations can meet
                // without overflowing a float sum.
                case F16 -> RandomWeights.putF16(w, o, Math.copySign(65504f, d) * ((o / 2) % 2 == 0 ? 1 : -1));
                case BF16 -> w.set(Half.LE_SHORT, o, (short) (pattern < 0 ? 0xC780 : 0x4780));
                case Q8_0, Q4_0 -> RandomWeights.putF16(w, o, d);
                case Q4_K -> {
                    RandomWeights.putF16(w, o, d);
                    RandomWeights.putF16(w, o + 2, -d);
                }
                case Q6_K -> RandomWeights.putF16(w, o + 208, d);
                default -> throw new IllegalArgumentException(t.toString());
            }
        }
        return w;
    }

    /**
     * dot against dotReference (exactly equal), matvec against
     * dot, and dotReference against Σ dequantize(w)·a as the check between the two scalar paths.
     */
    static void compareRows(WeightFormat f, MemorySegment w, int rows, int n, Activation a, String what) {
        long rowBytes = f.type().bytesFor(n);
        float[] out = new float[rows];
        f.matvec(w, rowBytes, n, a, out, 0, rows);
        checkSubrange(f, w, rowBytes, rows, n, a, out, what);
        float[] dq = new float[n];
        float[] x = activationValues(a, f.activationKind());
        for (int r = 0; r < rows; r++) {
            long off = r * rowBytes;
            float v = f.dot(w, off, a, n), ref = f.dotReference(w, off, a, n);
            f.dequantize(w, off, dq, 0, n);
            double exact = 0, mag = 0;
            for (int i = 0; i < n; i++) {
                exact += (double) dq[i] * x[i];
                mag += Math.abs((double) dq[i] * x[i]);
            }
            String id = f.type() + " n=" + n + " row " + r + " (" + what + ", " + VectorMath.BITS + " bits)";
            // Bit for bit: both paths compute the same float operations in the same order (llama.cpp's).
            if (Float.floatToRawIntBits(v) != Float.floatToRawIntBits(ref)) throw new AssertionError(id + ": dot " + v + " != reference " + ref + state(f, w, off, a, n));
            if (out[r] != v) throw new AssertionError(id + ": matvec " + out[r] + " != dot " + v);
            if (!close(ref, exact, mag, 2e-5)) throw new AssertionError(id + ": reference " + ref + " != Σ dequantize·a " + exact);
        }
    }

    /**
     * What a mismatch was made of, for a failure seen once in several full test runs and not again
     * (Q8_0, n = 64, 512 bits): which activation quantizer ran, whether the 16-bit copies of the
     * activations the vector kernels read still equal q, and the dot computed twice more.
     */
    private static String state(WeightFormat f, MemorySegment w, long off, Activation a, int n) {
        int differs = -1;
        boolean int8 = f.activationKind() == ActivationKind.Q8_0 || f.activationKind() == ActivationKind.Q8_K;
        for (int i = 0; int8 && i + 1 < n && differs < 0; i += 2) if (a.evens[i / 2] != a.q[i] || a.odds[i / 2] != a.q[i + 1]) differs = i;
        return " (vector quantizer " + (ActivationQuantizer.VECTOR.on() ? "on" : "off")
                + (differs < 0 ? ", evens/odds equal q" : ", evens/odds differ from q at " + differs)
                + ", again " + f.dot(w, off, a, n) + " and " + f.dot(w, off, a, n) + ")";
    }

    /**
     * matvec over rows 1 .. rows − 2 and over rows 0 .. rows − 2 only (an odd and an even count, for
     * kernels that pair rows): the same values as over all rows (the row kernels address each row
     * from the matrix start), and nothing written outside the range.
     */
    static void checkSubrange(WeightFormat f, MemorySegment w, long rowBytes, int rows, int n, Activation a, float[] all, String what) {
        if (rows < 3) return;
        String id = f.type() + " n=" + n + " (" + what + ", " + VectorMath.BITS + " bits)";
        for (int r0 = 0; r0 < 2; r0++) {
            int r1 = rows - 1;
            float[] part = new float[rows];
            java.util.Arrays.fill(part, Float.NaN);
            f.matvec(w, rowBytes, n, a, part, r0, r1);
            if ((r0 > 0 && !Float.isNaN(part[0])) || !Float.isNaN(part[r1])) throw new AssertionError(id + ": matvec of rows " + r0 + ".." + (r1 - 1) + " wrote outside them");
            for (int r = r0; r < r1; r++) {
                if (part[r] != all[r]) throw new AssertionError(id + ": matvec of rows " + r0 + ".." + (r1 - 1) + " gave row " + r + " " + part[r] + " != " + all[r]);
            }
        }
    }

    /** Within {@code rel} of the sum of magnitudes, which bounds what reordering a float sum can change. */
    private static boolean close(double a, double b, double magnitude, double rel) {
        return Math.abs(a - b) <= rel * magnitude + 1e-30;
    }

    /** The activation values a format's dot multiplies: the rounded floats, or q times the block scale. */
    static float[] activationValues(Activation a, ActivationKind kind) {
        float[] x = new float[a.n];
        for (int i = 0; i < a.n; i++) {
            x[i] = switch (kind) {
                case F32, F16, BF16 -> a.rounded[i];
                case Q8_0, Q8_K -> a.q[i] * a.scale[i / kind.blockSize];
            };
        }
        return x;
    }

    /**
     * The vector f16/bf16 → f32 conversions against the scalar ones for every 16-bit pattern, bit for
     * bit: bf16 exactly, f16 as its value divided by 2^112 for every finite pattern (subnormals too).
     */
    static void checkHalfConversion() {
        int l = VectorMath.F8.length();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(2L * 65536);
            for (int h = 0; h < 65536; h++) s.set(Half.LE_SHORT, 2L * h, (short) h);
            float[] got = new float[l];
            for (int h = 0; h < 65536; h += l) {
                Half.f16sScaled(s, 2L * h).intoArray(got, 0);
                for (int j = 0; j < l; j++) {
                    float value = Float.float16ToFloat((short) (h + j));
                    if (!Float.isFinite(value)) continue;
                    if (Float.floatToRawIntBits(got[j] * Half.F16_SCALE) != Float.floatToRawIntBits(value)
                            || Float.floatToRawIntBits(got[j]) != Float.floatToRawIntBits(value / Half.F16_SCALE)) {
                        throw new AssertionError(String.format("f16 0x%04x: vector %s (scaled), scalar %s", h + j, got[j], value));
                    }
                }
                Half.bf16s(s, 2L * h).intoArray(got, 0);
                for (int j = 0; j < l; j++) {
                    if (Float.floatToRawIntBits(got[j]) != (h + j) << 16) throw new AssertionError(String.format("bf16 0x%04x", h + j));
                }
            }
        }
    }
}
