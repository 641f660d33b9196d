package dev.vecllama.kernel;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The exponential llama.cpp's CPU backend uses for SiLU on AVX-512 machines: a degree-5
 * polynomial after range reduction (max error about 1.5 ulp), not the C library's expf. We use the
 * same formula so that activations round the same way, which keeps quantized models' logits on
 * llama.cpp's (a one-ulp difference can flip an int8 rounding downstream).
 */
public final class Exp {
    private Exp() {}

    public static float expf(float x) {
        float z = Math.fma(x, 0x1.715476p+0f, 0x1.8p23f);
        float n = z - 0x1.8p23f;
        float b = Math.fma(-n, 0x1.7f7d1cp-20f, Math.fma(-n, 0x1.62e4p-1f, x));
        if (Math.abs(n) > 192) return n <= 0 ? 0f : Float.POSITIVE_INFINITY;
        float u = b * b;
        float j = Math.fma(
                Math.fma(Math.fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, Math.fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                u,
                Math.fma(0x1.ffffecp-1f, b, 1.0f));
        return Math.scalb(j, (int) n);
    }

    /** 2^(i/32) as double bits, minus i << 47 (so adding k << 47 scales by 2^(k/32)). */
    private static final long[] EXP2_TABLE = {
        0x3ff0000000000000L, 0x3fefd9b0d3158574L, 0x3fefb5586cf9890fL, 0x3fef9301d0125b51L,
        0x3fef72b83c7d517bL, 0x3fef54873168b9aaL, 0x3fef387a6e756238L, 0x3fef1e9df51fdee1L,
        0x3fef06fe0a31b715L, 0x3feef1a7373aa9cbL, 0x3feedea64c123422L, 0x3feece086061892dL,
        0x3feebfdad5362a27L, 0x3feeb42b569d4f82L, 0x3feeab07dd485429L, 0x3feea47eb03a5585L,
        0x3feea09e667f3bcdL, 0x3fee9f75e8ec5f74L, 0x3feea11473eb0187L, 0x3feea589994cce13L,
        0x3feeace5422aa0dbL, 0x3feeb737b0cdc5e5L, 0x3feec49182a3f090L, 0x3feed503b23e255dL,
        0x3feee89f995ad3adL, 0x3feeff76f2fb5e47L, 0x3fef199bdd85529cL, 0x3fef3720dcef9069L,
        0x3fef5818dcfba487L, 0x3fef7c97337b9b5fL, 0x3fefa4afa2a490daL, 0x3fefd0765b6e4540L,
    };
    private static final double INV_LN2_N = 0x1.71547652b82fep+0 * 32;
    private static final double SHIFT = 0x1.8p+52;
    private static final double C0 = 0x1.c6af84b912394p-5 / 32 / 32 / 32;
    private static final double C1 = 0x1.ebfce50fac4f3p-3 / 32 / 32;
    private static final double C2 = 0x1.62e42ff0c52d6p-1 / 32;

    /**
     * The C library's expf on x86-64 Linux (glibc's FMA variant, whose compiler fuses every
     * multiply-add): table-driven, evaluated in double. llama.cpp's flash attention calls it for
     * every softmax weight, and we want its exact bits.
     */
    public static float libmExpf(float x) {
        if (x != x) return x;
        if (x > 0x1.62e42ep6f) return Float.POSITIVE_INFINITY;
        if (x < -0x1.9fe368p6f) return 0f;
        double xd = x;
        double kd = Math.fma(INV_LN2_N, xd, SHIFT);
        long ki = Double.doubleToRawLongBits(kd);
        kd -= SHIFT;
        double r = Math.fma(INV_LN2_N, xd, -kd);
        double s = Double.longBitsToDouble(EXP2_TABLE[(int) (ki & 31)] + (ki << 47));
        double z = Math.fma(C0, r, C1);
        double r2 = r * r;
        double y = Math.fma(C2, r, 1);
        y = Math.fma(z, r2, y);
        return (float) (y * s);
    }

    /*
     * libmExpfSum evaluates libmExpf eight lanes at a time: floats widened to 512-bit double
     * vectors, the same double operations in the same order, the table held in four vectors and read
     * with one-table permutes (the two-table selectFrom, one vpermi2q per half, is JDK 24 API and
     * the build targets 22). With narrower vectors the lookup would take eight or sixteen table
     * vectors, so there the loop stays scalar.
     */
    private static final boolean VECTOR = VectorWidth.BITS >= 512;
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Double> D8 = DoubleVector.SPECIES_512;
    private static final VectorSpecies<Long> L8 = LongVector.SPECIES_512;
    private static final LongVector TABLE_0 = LongVector.fromArray(L8, EXP2_TABLE, 0);
    private static final LongVector TABLE_1 = LongVector.fromArray(L8, EXP2_TABLE, 8);
    private static final LongVector TABLE_2 = LongVector.fromArray(L8, EXP2_TABLE, 16);
    private static final LongVector TABLE_3 = LongVector.fromArray(L8, EXP2_TABLE, 24);
    private static final LongVector LANE_BITS = LongVector.broadcast(L8, 7);
    private static final LongVector BIT_3 = LongVector.broadcast(L8, 8);
    private static final LongVector BIT_4 = LongVector.broadcast(L8, 16);
    private static final DoubleVector V_INV_LN2_N = DoubleVector.broadcast(D8, INV_LN2_N);
    private static final DoubleVector V_SHIFT = DoubleVector.broadcast(D8, SHIFT);
    private static final DoubleVector V_C0 = DoubleVector.broadcast(D8, C0);
    private static final DoubleVector V_C1 = DoubleVector.broadcast(D8, C1);
    private static final DoubleVector V_C2 = DoubleVector.broadcast(D8, C2);
    private static final DoubleVector V_ONE = DoubleVector.broadcast(D8, 1);
    private static final FloatVector OVERFLOW = FloatVector.broadcast(F8, 0x1.62e42ep6f);
    private static final FloatVector UNDERFLOW = FloatVector.broadcast(F8, -0x1.9fe368p6f);
    private static final FloatVector INFINITY = FloatVector.broadcast(F8, Float.POSITIVE_INFINITY);
    private static final FloatVector ZERO = FloatVector.zero(F8);

    /** What the warm-up thread calls until libmExpfSum's vector path is fast: a softmax over 256 positions. */
    public static final KernelWarmup.Switch SOFTMAX = new KernelWarmup.Switch() {
        private final float[] scores = new float[256], x = new float[256];

        {
            for (int i = 0; i < scores.length; i++) scores[i] = (float) Math.sin(i);
        }

        @Override
        public void call() {
            System.arraycopy(scores, 0, x, 0, x.length);
            libmExpfSumVector(x, 1f, 0, x.length);
        }

        @Override
        public Runnable reference() {
            return () -> {
                System.arraycopy(scores, 0, x, 0, x.length);
                libmExpfSumScalar(x, 1f, 0, x.length, 0f);
            };
        }
    };

    /**
     * Sets {@code x[i] = libmExpf(x[i] - shift)} for i in [from, to), bit for bit, and returns the
     * float sum of the new values added in index order: a softmax's weights and denominator. Scalar
     * until the vector path is compiled: run by the Vector API's Java fallback, it had been a third of
     * a tiny model's first 100-token prompt (JFR).
     */
    public static float libmExpfSum(float[] x, float shift, int from, int to) {
        return SOFTMAX.on() ? libmExpfSumVector(x, shift, from, to) : libmExpfSumScalar(x, shift, from, to, 0f);
    }

    /** {@link #libmExpfSum}, eight lanes at a time where the vectors are 512 bits wide. */
    static float libmExpfSumVector(float[] x, float shift, int from, int to) {
        int i = from;
        float sum = 0;
        if (VECTOR) {
            FloatVector shiftV = FloatVector.broadcast(F8, shift);
            for (int end = from + F8.loopBound(to - from); i < end; i += F8.length()) {
                FloatVector xf = FloatVector.fromArray(F8, x, i).sub(shiftV);
                DoubleVector xd = (DoubleVector) xf.convertShape(VectorOperators.F2D, D8, 0);
                DoubleVector kd = xd.fma(V_INV_LN2_N, V_SHIFT);
                LongVector ki = kd.reinterpretAsLongs();
                DoubleVector r = xd.fma(V_INV_LN2_N, kd.sub(V_SHIFT).neg());
                // Bits 0-2 of the index pick the lane, bits 3 and 4 the table vector.
                LongVector lane = ki.and(LANE_BITS);
                VectorMask<Long> odd = ki.and(BIT_3).eq(BIT_3);
                LongVector t = lane.selectFrom(TABLE_0).blend(lane.selectFrom(TABLE_1), odd)
                        .blend(lane.selectFrom(TABLE_2).blend(lane.selectFrom(TABLE_3), odd), ki.and(BIT_4).eq(BIT_4));
                DoubleVector s = t.add(ki.lanewise(VectorOperators.LSHL, 47)).reinterpretAsDoubles();
                DoubleVector z = r.fma(V_C0, V_C1);
                DoubleVector r2 = r.mul(r);
                DoubleVector y = z.fma(r2, r.fma(V_C2, V_ONE));
                FloatVector e = (FloatVector) y.mul(s).convertShape(VectorOperators.D2F, F8, 0);
                // A NaN would mostly survive the arithmetic too, but which operand's payload an fma
                // keeps is the hardware's choice; the scalar function returns its argument.
                e.blend(INFINITY, xf.compare(VectorOperators.GT, OVERFLOW))
                        .blend(ZERO, xf.compare(VectorOperators.LT, UNDERFLOW))
                        .blend(xf, xf.compare(VectorOperators.NE, xf))
                        .intoArray(x, i);
                // The in-order sum is a chain of dependent adds that takes as long as the vector
                // work; adding each block here, rather than in a loop of its own, overlaps the two.
                for (int j = i; j < i + F8.length(); j++) sum += x[j];
            }
        }
        return libmExpfSumScalar(x, shift, i, to, sum);
    }

    /** {@link #libmExpfSum} one element at a time, adding to {@code sum}. */
    private static float libmExpfSumScalar(float[] x, float shift, int from, int to, float sum) {
        for (int i = from; i < to; i++) {
            x[i] = libmExpf(x[i] - shift);
            sum += x[i];
        }
        return sum;
    }

    /** x · sigmoid(x), computed as x / (1 + e^−x). */
    public static float silu(float x) {
        return x / (1f + expf(0f - x));
    }

    /** What the warm-up thread calls until swigluVector is fast: an FFN's width. */
    public static final KernelWarmup.Switch SWIGLU = new KernelWarmup.Switch() {
        private final float[] gate = new float[768], up = new float[768], out = new float[768];

        {
            for (int i = 0; i < gate.length; i++) {
                gate[i] = (float) Math.sin(i);
                up[i] = (float) Math.cos(i);
            }
        }

        @Override
        public void call() {
            swigluVector(out, gate, up, gate.length);
        }

        @Override
        public Runnable reference() {
            return () -> swigluReference(out, gate, up, gate.length);
        }
    };

    /** {@code out[i] = silu(gate[i]) · up[i]} for i < n (out may be gate): the FFN's gate, on the scalar reference until the vector path is compiled. */
    public static void swiglu(float[] out, float[] gate, float[] up, int n) {
        if (SWIGLU.on()) swigluVector(out, gate, up, n);
        else swigluReference(out, gate, up, n);
    }

    /** The scalar reference of {@link #swigluVector}. */
    public static void swigluReference(float[] out, float[] gate, float[] up, int n) {
        swigluScalar(out, gate, up, 0, n);
    }

    private static void swigluScalar(float[] out, float[] gate, float[] up, int from, int to) {
        for (int i = from; i < to; i++) out[i] = silu(gate[i]) * up[i];
    }

    private static final VectorSpecies<Float> S = VectorWidth.FLOATS;

    /**
     * {@link #swigluReference}, a vector at a time, bit for bit: {@link #expf}'s operations lanewise,
     * and its final scalb as a multiplication by 2^n, which rounds the same (once) while 2^n is a
     * normal float. A vector with some |n| above 126 (|x| above about 87: rare in an FFN) is done by
     * the scalar function.
     */
    public static void swigluVector(float[] out, float[] gate, float[] up, int n) {
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += S.length()) {
            FloatVector x = FloatVector.fromArray(S, gate, i).neg();
            FloatVector m = x.fma(0x1.715476p+0f, 0x1.8p23f).sub(0x1.8p23f);
            if (m.abs().compare(VectorOperators.GT, 126f).anyTrue()) {
                swigluScalar(out, gate, up, i, i + S.length());
                continue;
            }
            FloatVector minusM = m.neg();
            FloatVector b = minusM.fma(FloatVector.broadcast(S, 0x1.7f7d1cp-20f), minusM.fma(FloatVector.broadcast(S, 0x1.62e4p-1f), x));
            FloatVector u = b.mul(b);
            FloatVector j = b.fma(0x1.0e4020p-7f, 0x1.573e2ep-5f).fma(u, b.fma(0x1.555e66p-3f, 0x1.fffdb6p-2f))
                    .fma(u, b.fma(0x1.ffffecp-1f, 1f));
            IntVector bits = ((IntVector) m.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
            FloatVector e = j.mul(bits.reinterpretAsFloats());
            // x is −gate: silu(gate) = gate / (1 + e^−gate).
            x.neg().div(e.add(1f)).mul(FloatVector.fromArray(S, up, i)).intoArray(out, i);
        }
        swigluScalar(out, gate, up, i, n);
    }
}
