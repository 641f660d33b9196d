package dev.vecllama.activation;

import dev.vecllama.kernel.KernelWarmup;
import dev.vecllama.kernel.VectorWidth;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dynamic activation quantization: scales are computed from each block's absolute maximum at run
 * time. The rounding rules follow llama.cpp's x86 path (round half to even; a Q8_0 scale is stored
 * as f16; a Q8_K block maps its largest-magnitude value to -127), so that our products see the
 * same integers its kernels see.
 */
public final class ActivationQuantizer {
    private ActivationQuantizer() {}

    public static void roundToF16(float[] x, float[] out, int n) {
        for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(Float.floatToFloat16(x[i]));
    }

    public static void roundToBF16(float[] x, float[] out, int n) {
        for (int i = 0; i < n; i++) out[i] = bf16ToFloat(floatToBF16(x[i]));
    }

    /** Round to nearest even, as ggml's fp32 → bf16 conversion does (NaN kept quiet). */
    public static short floatToBF16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) return (short) ((bits >>> 16) | 64);
        return (short) ((bits + (0x7fff + ((bits >>> 16) & 1))) >>> 16);
    }

    public static float bf16ToFloat(short h) {
        return Float.intBitsToFloat((h & 0xffff) << 16);
    }

    public static void quantizeQ8_0Reference(float[] x, int n, byte[] q, float[] scale) {
        for (int b = 0; b < n / 32; b++) {
            int o = b * 32;
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[o + j]));
            float d = amax / 127f;
            float id = amax != 0 ? 127f / amax : 0f;
            scale[b] = Float.float16ToFloat(Float.floatToFloat16(d));
            for (int j = 0; j < 32; j++) q[o + j] = (byte) Math.rint(x[o + j] * id);
        }
    }

    public static void quantizeQ8_KReference(float[] x, int n, byte[] q, float[] scale, short[] sums) {
        for (int b = 0; b < n / 256; b++) quantizeQ8_KBlock(x, q, scale, sums, b);
    }

    /** Block b of {@link #quantizeQ8_KReference}. */
    private static void quantizeQ8_KBlock(float[] x, byte[] q, float[] scale, short[] sums, int b) {
        int o = b * 256;
        float amax = 0, max = 0;
        for (int j = 0; j < 256; j++) {
            float ax = Math.abs(x[o + j]);
            if (ax > amax) {
                amax = ax;
                max = x[o + j];
            }
        }
        if (amax == 0) {
            scale[b] = 0;
            java.util.Arrays.fill(q, o, o + 256, (byte) 0);
            java.util.Arrays.fill(sums, o / 16, o / 16 + 16, (short) 0);
            return;
        }
        float iscale = -127f / max;
        for (int j = 0; j < 256; j++) q[o + j] = (byte) Math.min(127, (int) Math.rint(iscale * x[o + j]));
        for (int g = 0; g < 16; g++) {
            int s = 0;
            for (int j = 0; j < 16; j++) s += q[o + g * 16 + j];
            sums[o / 16 + g] = (short) s;
        }
        scale[b] = 1 / iscale;
    }

    private static final VectorSpecies<Float> S = VectorWidth.FLOATS;
    /** Bytes for a float vector's lanes: a quarter of its width, but 64 bits at least (at 128 bits, half of them are stored). */
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, S.vectorBitSize() / 4)));
    private static final VectorMask<Byte> FLOAT_LANES = B.indexInRange(0, S.length());
    /** Adding and subtracting 1.5·2^23 rounds a float below 2^22 in magnitude to an integer, half to even: Math.rint. */
    private static final float ROUNDING = 0x1.8p23f;

    /** What the warm-up thread calls until the vector quantizers are fast: one of each on a 768-wide row. */
    public static final KernelWarmup.Switch VECTOR = new KernelWarmup.Switch() {
        private final float[] x = new float[768], scale = new float[768 / 32];
        private final byte[] q = new byte[768];
        private final short[] sums = new short[768 / 16], wide = new short[768], evens = new short[384], odds = new short[384];

        {
            for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i);
        }

        @Override
        public void call() {
            quantizeQ8_0Vector(x, x.length, q, scale);
            quantizeQ8_KVector(x, x.length, q, scale, sums);
            widenVector(q, x.length, wide, evens, odds);
        }

        @Override
        public Runnable reference() {
            return () -> {
                quantizeQ8_0Reference(x, x.length, q, scale);
                quantizeQ8_KReference(x, x.length, q, scale, sums);
                widenReference(q, x.length, wide, evens, odds);
            };
        }
    };

    /** Q8_0 activations, as {@link #quantizeQ8_0Reference} gives them; by the vector path once it is compiled. */
    public static void quantizeQ8_0(float[] x, int n, byte[] q, float[] scale) {
        if (VECTOR.on()) quantizeQ8_0Vector(x, n, q, scale);
        else quantizeQ8_0Reference(x, n, q, scale);
    }

    /** Q8_K activations, as {@link #quantizeQ8_KReference} gives them; by the vector path once it is compiled. */
    public static void quantizeQ8_K(float[] x, int n, byte[] q, float[] scale, short[] sums) {
        if (VECTOR.on()) quantizeQ8_KVector(x, n, q, scale, sums);
        else quantizeQ8_KReference(x, n, q, scale, sums);
    }

    /**
     * {@code x·id} rounded half to even, as Math.rint does while |x·id| is below 2^22 (a block's values
     * against its absmax are at most 127). An infinite id (a subnormal absmax) gives ±∞ products,
     * which convert to Integer.MAX_VALUE / MIN_VALUE as the scalar cast does, and NaN to 0.
     */
    private static IntVector rounded(FloatVector x, float id) {
        return (IntVector) x.mul(id).add(ROUNDING).sub(ROUNDING).convert(VectorOperators.F2I, 0);
    }

    private static void store(IntVector v, byte[] q, int at) {
        ByteVector bytes = (ByteVector) v.convertShape(VectorOperators.I2B, B, 0);
        if (B.length() == S.length()) bytes.intoArray(q, at);
        else bytes.intoArray(q, at, FLOAT_LANES);
    }

    /** {@link #quantizeQ8_0Reference} a vector at a time, bit for bit. */
    static void quantizeQ8_0Vector(float[] x, int n, byte[] q, float[] scale) {
        for (int b = 0; b < n / 32; b++) {
            int o = b * 32;
            FloatVector m = FloatVector.zero(S);
            // Lanewise max, then across lanes: both Math.max's, so a NaN spreads as in the scalar loop.
            for (int j = 0; j < 32; j += S.length()) m = m.max(FloatVector.fromArray(S, x, o + j).abs());
            float amax = m.reduceLanes(VectorOperators.MAX);
            float id = amax != 0 ? 127f / amax : 0f;
            scale[b] = Float.float16ToFloat(Float.floatToFloat16(amax / 127f));
            for (int j = 0; j < 32; j += S.length()) store(rounded(FloatVector.fromArray(S, x, o + j), id), q, o + j);
        }
    }

    /** {@link #quantizeQ8_KReference} a vector at a time, bit for bit. */
    static void quantizeQ8_KVector(float[] x, int n, byte[] q, float[] scale, short[] sums) {
        int lanes = S.length();
        for (int b = 0; b < n / 256; b++) {
            int o = b * 256;
            FloatVector m = FloatVector.zero(S);
            for (int j = 0; j < 256; j += lanes) m = m.max(FloatVector.fromArray(S, x, o + j).abs());
            float amax = m.reduceLanes(VectorOperators.MAX);
            // The scalar loop skips NaNs (a comparison with NaN is false), the lanewise max keeps them.
            if (amax != amax || amax == 0) {
                quantizeQ8_KBlock(x, q, scale, sums, b);
                continue;
            }
            // The block's first element of largest magnitude, with its sign.
            int j = 0;
            VectorMask<Float> at = FloatVector.fromArray(S, x, o).abs().eq(amax);
            while (!at.anyTrue()) {
                j += lanes;
                at = FloatVector.fromArray(S, x, o + j).abs().eq(amax);
            }
            float max = x[o + j + at.firstTrue()];
            float iscale = -127f / max;
            int sum = 0;
            for (j = 0; j < 256; j += lanes) {
                IntVector v = rounded(FloatVector.fromArray(S, x, o + j), iscale).min(127);
                store(v, q, o + j);
                // Lanes of Integer.MIN_VALUE (−∞ codes) store as 0 and add 0 mod 2^16, as the scalar
                // bytes do: the short sums agree.
                sum += v.reduceLanes(VectorOperators.ADD);
                if ((j + lanes) % 16 == 0) {
                    sums[(o + j) / 16] = (short) sum;
                    sum = 0;
                }
            }
            scale[b] = 1 / iscale;
        }
    }

    /** The decode kernels' 16-bit forms of q, by the vector path once it is compiled. */
    static void widen(byte[] q, int n, short[] wide, short[] evens, short[] odds) {
        if (VECTOR.on()) widenVector(q, n, wide, evens, odds);
        else widenReference(q, n, wide, evens, odds);
    }

    /**
     * q widened to shorts, and its even and odd elements widened ({@link Activation#wide}, evens,
     * odds) for the first n elements; an odd n's last element has no pair and is only widened.
     */
    static void widenReference(byte[] q, int n, short[] wide, short[] evens, short[] odds) {
        widenScalar(q, 0, n, wide, evens, odds);
    }

    /** {@link #widenReference} from element {@code from} (even) on. */
    private static void widenScalar(byte[] q, int from, int n, short[] wide, short[] evens, short[] odds) {
        for (int i = from; i < n; i++) wide[i] = q[i];
        for (int i = from; i + 1 < n; i += 2) {
            evens[i / 2] = q[i];
            odds[i / 2] = q[i + 1];
        }
    }

    private static final VectorSpecies<Byte> QB = VectorSpecies.of(byte.class, S.vectorShape());
    private static final VectorSpecies<Short> QS = VectorSpecies.of(short.class, S.vectorShape());

    /** {@link #widenReference} a vector at a time: a byte pair read as a little-endian short holds the even element low, the odd high. */
    static void widenVector(byte[] q, int n, short[] wide, short[] evens, short[] odds) {
        int i = 0;
        for (int end = QB.loopBound(n); i < end; i += QB.length()) {
            ByteVector v = ByteVector.fromArray(QB, q, i);
            ((ShortVector) v.convertShape(VectorOperators.B2S, QS, 0)).intoArray(wide, i);
            ((ShortVector) v.convertShape(VectorOperators.B2S, QS, 1)).intoArray(wide, i + QS.length());
            ShortVector pairs = v.reinterpretAsShorts();
            pairs.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8).intoArray(evens, i / 2);
            pairs.lanewise(VectorOperators.ASHR, 8).intoArray(odds, i / 2);
        }
        widenScalar(q, i, n, wide, evens, odds);
    }
}
