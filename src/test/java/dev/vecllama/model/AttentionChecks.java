package dev.vecllama.model;

/**
 * The attention and KV-cache rounding checks, callable outside JUnit: {@code KernelChecks} runs them in
 * a child JVM per vector width, since the width is fixed once per JVM.
 */
public final class AttentionChecks {
    private AttentionChecks() {}

    public static void checkAll() {
        AttentionTest attention = new AttentionTest();
        for (int[] c : AttentionTest.HALF_CASES) attention.halfPrecisionEqualsItsScalarOrder(c[0], c[1]);
        attention.halfPrecisionEqualsItsScalarOrderStepByStep();
        for (int[] c : AttentionTest.SINGLE_CASES) {
            attention.singlePrecisionEqualsItsScalarOrder(c[0], c[1]);
            attention.singlePrecisionPairEqualsTwoSingles(c[0], c[1]);
        }
        new HalfRoundingTest().boundariesAndRandomFloats();
    }
}
