package dev.vecllama.kernel;

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

    /** x · sigmoid(x), computed as x / (1 + e^−x). */
    public static float silu(float x) {
        return x / (1f + expf(0f - x));
    }
}
