package dev.vecllama.activation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Arrays;
import java.util.Random;

/**
 * The vector activation quantizers must give their scalar references' bytes, scales and sums: the
 * kernels' integers, and so the logits matched against llama.cpp, start there. Each check makes
 * thousands of calls (the Vector API's Java fallback, then C2's code). Run by
 * {@link VectorQuantizerTest} and, at every vector width, by the kernel checks.
 */
public final class QuantizerChecks {
    private QuantizerChecks() {}

    public static void checkAll() {
        Random random = new Random(5);
        for (int round = 0; round < 600; round++) {
            int n = 256 * (1 + random.nextInt(4));
            float[] x = new float[n];
            fill(x, round, random);
            compare(x, n, "round " + round);
        }
        specialBlocks();
    }

    /** Activations of several shapes: Gaussian, heavy-tailed, ties at half a step, repeated extremes of both signs. */
    private static void fill(float[] x, int round, Random random) {
        float scale = (float) Math.exp(random.nextGaussian() * 3);
        for (int i = 0; i < x.length; i++) {
            x[i] = switch (round % 4) {
                case 0 -> (float) random.nextGaussian() * scale;
                case 1 -> (float) (random.nextGaussian() * Math.exp(2 * random.nextGaussian()));
                // Multiples of 1/2 against a maximum of 127: every other value a tie for the rounding.
                case 2 -> (random.nextInt(255) - 127) * 0.5f;
                default -> random.nextInt(3) - 1f;                // ±1 and 0: the largest magnitude many times over
            };
        }
        if (round % 8 == 2) x[random.nextInt(x.length)] = 63.5f;   // 127 steps of 1/2: exact ties
    }

    private static void specialBlocks() {
        float[][] blocks = {
            new float[256],                                              // all zero
            filled(-0f), filled(Float.MIN_VALUE), filled(-Float.MIN_VALUE),
            withAt(filled(1f), 17, Float.NaN), withAt(filled(1f), 200, Float.POSITIVE_INFINITY),
            withAt(filled(1f), 3, Float.NEGATIVE_INFINITY), withAt(new float[256], 255, Float.MIN_VALUE),
            withAt(withAt(new float[256], 40, 5f), 41, -5f), withAt(withAt(new float[256], 40, -5f), 41, 5f),
            withAt(filled(0.25f), 0, Float.MAX_VALUE), withAt(filled(-3f), 128, 1e-40f),
            withAt(filled(-Float.MIN_VALUE), 0, Float.MIN_VALUE),       // scale 1/∞: codes from ±∞, clamped to 127
        };
        for (int round = 0; round < 300; round++) {
            for (int k = 0; k < blocks.length; k++) compare(blocks[k], 256, "special block " + k);
        }
    }

    private static float[] filled(float v) {
        float[] x = new float[256];
        Arrays.fill(x, v);
        return x;
    }

    private static float[] withAt(float[] x, int i, float v) {
        x[i] = v;
        return x;
    }

    private static void compare(float[] x, int n, String what) {
        byte[] q = new byte[n], wantQ = new byte[n];
        float[] scale = new float[n / 32], wantScale = new float[n / 32];
        short[] sums = new short[n / 16], wantSums = new short[n / 16];
        // Stale contents, so that a block the vector path skips shows.
        Arrays.fill(q, (byte) 99);
        Arrays.fill(sums, (short) 99);
        ActivationQuantizer.quantizeQ8_0Reference(x, n, wantQ, wantScale);
        ActivationQuantizer.quantizeQ8_0Vector(x, n, q, scale);
        assertArrayEquals(wantQ, q, what + ": Q8_0 codes");
        assertArrayEquals(wantScale, scale, what + ": Q8_0 scales");

        ActivationQuantizer.quantizeQ8_KReference(x, n, wantQ, wantScale, wantSums);
        Arrays.fill(q, (byte) 99);
        ActivationQuantizer.quantizeQ8_KVector(x, n, q, scale, sums);
        assertArrayEquals(wantQ, q, what + ": Q8_K codes");
        assertArrayEquals(Arrays.copyOf(wantScale, n / 256), Arrays.copyOf(scale, n / 256), what + ": Q8_K scales");
        assertArrayEquals(wantSums, sums, what + ": Q8_K sums");

        // Widening, over every length up to n (odd ones too, whose last element has no pair).
        int len = x.length == 256 ? 1 + Math.floorMod(Arrays.hashCode(x), 256) : n;
        short[] wide = new short[n], evens = new short[n / 2], odds = new short[n / 2];
        short[] wantWide = new short[n], wantEvens = new short[n / 2], wantOdds = new short[n / 2];
        ActivationQuantizer.widenReference(wantQ, len, wantWide, wantEvens, wantOdds);
        ActivationQuantizer.widenVector(wantQ, len, wide, evens, odds);
        assertArrayEquals(wantWide, wide, what + ": widened, " + len + " elements");
        assertArrayEquals(wantEvens, evens, what + ": evens, " + len + " elements");
        assertArrayEquals(wantOdds, odds, what + ": odds, " + len + " elements");
    }
}
