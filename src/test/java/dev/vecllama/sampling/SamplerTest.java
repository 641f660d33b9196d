package dev.vecllama.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SamplerTest {

    /** All filters off: plain softmax(logits / T). */
    private static SamplerSettings.Builder unfiltered(float temperature) {
        return SamplerSettings.builder().temperature(temperature).topK(0).topP(1).minP(0).seed(7);
    }

    private static float[] randomLogits(SplittableRandom rnd, int n) {
        float[] l = new float[n];
        for (int i = 0; i < n; i++) l[i] = (float) (rnd.nextGaussian() * 3);
        return l;
    }

    /** How often each token is drawn from the same logits; the logits are copied, as sample() may change them. */
    private static int[] histogram(Sampler s, float[] logits, int draws) {
        int[] counts = new int[logits.length];
        for (int i = 0; i < draws; i++) counts[s.sample(logits.clone())]++;
        return counts;
    }

    /** Logits whose softmax is exactly {@code probs}. */
    private static float[] logitsOf(double... probs) {
        float[] l = new float[probs.length];
        for (int i = 0; i < probs.length; i++) l[i] = (float) Math.log(probs[i]);
        return l;
    }

    @Test
    void greedyPicksTheArgmaxAndTheLowestIdOnTies() {
        Sampler greedy = new Sampler(SamplerSettings.builder().temperature(0).build(), 6);
        assertEquals(4, greedy.sample(new float[] {1, 2, 3, -1, 3.5f, 0}));
        assertEquals(1, greedy.sample(new float[] {1, 5, 2, 5, 5, 0}));
        assertEquals(0, greedy.sample(new float[] {-0.0f, -1, 0.0f, -0.0f, -3, -2}), "-0.0 ties with 0.0");
        float[] masked = {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, -50, Float.NEGATIVE_INFINITY, -60, -70};
        assertEquals(2, greedy.sample(masked));
    }

    @ParameterizedTest(name = "T = {0}")
    @ValueSource(floats = {0.01f, 0.8f, 1, 5, 1000})
    void topKOneIsGreedyAtAnyTemperature(float temperature) {
        Sampler greedy = new Sampler(SamplerSettings.builder().temperature(0).build(), 500);
        SplittableRandom rnd = new SplittableRandom(1);
        for (int trial = 0; trial < 200; trial++) {
            Sampler topOne = new Sampler(unfiltered(temperature).topK(1).seed(trial).build(), 500);
            float[] logits = randomLogits(rnd, 500);
            if (trial % 2 == 0) logits[rnd.nextInt(500)] = logits[greedy.sample(logits.clone())]; // a tie for first place
            assertEquals(greedy.sample(logits.clone()), topOne.sample(logits.clone()), "trial " + trial);
        }
    }

    @Test
    void topKKeepsOnlyTheKBest() {
        float[] logits = {0.1f, 3, -2, 2.9f, 0, 2.95f, 1};
        int[] counts = histogram(new Sampler(unfiltered(50).topK(3).build(), 7), logits, 5000);
        assertArrayEquals(new int[] {0, 2, 4, 6}, zeros(counts), "only ids 1, 5, 3 may appear: " + Arrays.toString(counts));
    }

    @Test
    void topPExcludesTheTail() {
        // Token order is not id order; p = 0.75 needs the 0.5 and the 0.3 token and nothing else.
        float[] logits = logitsOf(0.05, 0.3, 0.1, 0.5, 0.05);
        int[] counts = histogram(new Sampler(unfiltered(1).topP(0.75f).build(), 5), logits, 5000);
        assertArrayEquals(new int[] {0, 2, 4}, zeros(counts), Arrays.toString(counts));
        double share = counts[3] / 5000.0;
        assertEquals(0.5 / 0.8, share, 0.03, "survivors keep their relative probabilities");
    }

    @Test
    void minPCutsTokensBelowPTimesTheBest() {
        // p = 0.3 of the best 0.4 is 0.12: the 0.1 token goes, the 0.2 token stays.
        float[] logits = logitsOf(0.1, 0.4, 0.2, 0.3);
        int[] counts = histogram(new Sampler(unfiltered(1).minP(0.3f).build(), 4), logits, 5000);
        assertArrayEquals(new int[] {0}, zeros(counts), Arrays.toString(counts));
        assertTrue(counts[2] > 0, "the 0.2 token must survive");
    }

    @Test
    void filtersJudgeProbabilitiesBeforeTemperatureAsLlamaCppDoes() {
        // At T = 1 token 0 alone holds 0.9 >= top-p 0.85; T = 100 would flatten the pair to ~0.5 each.
        float[] logits = logitsOf(0.9, 0.1);
        int[] counts = histogram(new Sampler(unfiltered(100).topP(0.85f).build(), 2), logits, 2000);
        assertEquals(0, counts[1]);
    }

    @Test
    void repetitionPenaltyChangesTheChoice() {
        SamplerSettings s = SamplerSettings.builder().temperature(0).repetitionPenalty(1.5f).repeatLastN(3).build();
        Sampler positive = new Sampler(s, 4);
        float[] logits = {2.0f, 1.8f, -1, -1.1f};
        assertEquals(0, positive.sample(logits.clone()));
        positive.accept(0);
        float[] penalized = logits.clone();
        assertEquals(1, positive.sample(penalized), "2.0 / 1.5 falls below 1.8");
        assertArrayEquals(new float[] {2.0f / 1.5f, 1.8f, -1, -1.1f}, penalized);

        Sampler negative = new Sampler(s, 4);
        negative.accept(2);
        assertEquals(3, negative.sample(new float[] {-5, -6, -1, -1.1f}), "-1 * 1.5 falls below -1.1");

        positive.accept(2);
        positive.accept(3);
        assertEquals(1, positive.sample(logits.clone()), "token 0 is still in the last 3");
        positive.accept(3);
        assertEquals(0, positive.sample(logits.clone()), "token 0 has left the window");
    }

    @Test
    void aTokenRepeatedInTheWindowIsPenalizedOnce() {
        Sampler s = new Sampler(SamplerSettings.builder().temperature(0).repetitionPenalty(1.5f).build(), 2);
        for (int i = 0; i < 3; i++) s.accept(0);
        float[] logits = {2.0f, 1.0f};
        assertEquals(0, s.sample(logits), "2.0 / 1.5 stays above 1.0; 2.0 / 1.5^3 would not");
        assertEquals(2.0f / 1.5f, logits[0]);
    }

    @Test
    void theSameSeedRepeatsAndAnotherSeedDiverges() {
        float[] logits = new float[50]; // uniform: every draw is a free choice among 50
        int[] a = sequence(11, logits);
        assertArrayEquals(a, sequence(11, logits));
        assertFalse(Arrays.equals(a, sequence(12, logits)));
    }

    private static int[] sequence(long seed, float[] logits) {
        Sampler s = new Sampler(unfiltered(1).seed(seed).build(), logits.length);
        int[] out = new int[100];
        for (int i = 0; i < out.length; i++) out[i] = s.sample(logits.clone());
        return out;
    }

    @ParameterizedTest(name = "T = {0}")
    @ValueSource(floats = {0.7f, 1, 2.5f})
    void drawsFollowSoftmaxOfLogitsOverTemperature(float temperature) {
        float[] logits = {1.0f, 0.5f, 0, -0.5f, -1, 2, 0.2f, -2};
        int draws = 20_000;
        int[] counts = histogram(new Sampler(unfiltered(temperature).build(), logits.length), logits, draws);
        double[] p = new double[logits.length];
        double total = 0;
        for (int i = 0; i < p.length; i++) total += p[i] = Math.exp(logits[i] / temperature);
        double chiSquare = 0;
        for (int i = 0; i < p.length; i++) {
            double expected = draws * p[i] / total;
            chiSquare += (counts[i] - expected) * (counts[i] - expected) / expected;
        }
        // 7 degrees of freedom: a correct sampler exceeds 24.3 once in a thousand seeds.
        assertTrue(chiSquare < 24.3, "chi-square " + chiSquare + " for counts " + Arrays.toString(counts));
    }

    @Test
    void samplingAllocatesNothingPerCall() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        float[] logits = randomLogits(new SplittableRandom(3), 32_000);
        float[] work = new float[logits.length];
        Sampler s = new Sampler(SamplerSettings.builder().repetitionPenalty(1.1f).seed(5).build(), logits.length);
        for (int i = 0; i < 64; i++) s.accept(i * 7);
        Runnable calls = () -> {
            for (int i = 0; i < 300; i++) {
                System.arraycopy(logits, 0, work, 0, logits.length);
                s.accept(s.sample(work));
            }
        };
        calls.run(); // warm up
        long before = threads.getCurrentThreadAllocatedBytes();
        calls.run();
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 300 * 16, allocated + " bytes allocated by 300 calls");
    }

    @Test
    void unusableInputIsRejected() {
        Sampler s = new Sampler(SamplerSettings.builder().build(), 3);
        assertMessage(() -> s.sample(new float[4]), "4 logits for a vocabulary of 3");
        assertMessage(() -> s.sample(new float[] {0, Float.NaN, 1}), "logit of token 1 is NaN");
        assertMessage(() -> s.sample(new float[] {0, 1, Float.POSITIVE_INFINITY}), "logit of token 2 is Infinity");
        float ninf = Float.NEGATIVE_INFINITY;
        assertMessage(() -> s.sample(new float[] {ninf, ninf, ninf}), "every logit is -Infinity: no token can be chosen");
        assertMessage(() -> s.accept(3), "token 3 is outside the vocabulary of 3");
        assertMessage(() -> s.accept(-1), "token -1 is outside the vocabulary of 3");
        assertMessage(() -> new Sampler(SamplerSettings.builder().build(), 0), "vocabulary size must be positive, got 0");
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String message) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, call).getMessage());
    }

    /** The ids that were never drawn. */
    private static int[] zeros(int[] counts) {
        return java.util.stream.IntStream.range(0, counts.length).filter(i -> counts[i] == 0).toArray();
    }
}
