package dev.vecllama.quant;

import dev.vecllama.gguf.GGMLType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The vector kernels against the scalar references at this JVM's vector width. */
class VectorDotTest {
    @ParameterizedTest
    @EnumSource(value = GGMLType.class, names = {"F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    void randomRowsOfManyLengths(GGMLType t) {
        KernelChecks.checkRandom(t);
    }

    @ParameterizedTest
    @EnumSource(value = GGMLType.class, names = {"F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    void zeroWeightsAndZeroActivations(GGMLType t) {
        KernelChecks.checkZero(t);
    }

    @ParameterizedTest
    @EnumSource(value = GGMLType.class, names = {"F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    void extremeCodesAndScales(GGMLType t) {
        KernelChecks.checkExtremes(t);
    }

    @ParameterizedTest
    @EnumSource(value = GGMLType.class, names = {"F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    void laneKernelsEqualDotPerToken(GGMLType t) {
        if (!(WeightFormat.of(t) instanceof LaneKernel)) throw new AssertionError(t + " has no lane kernel");
        KernelChecks.checkLanes(t);
    }

    @Test
    void q4KScalesOfEveryKindOfHalf() {
        KernelChecks.checkSpecialScales();
    }

    @Test
    void halfConversionIsExactForEveryBitPattern() {
        KernelChecks.checkHalfConversion();
    }

    @Test
    void everyImplementedTypeIsRegistered() {
        for (GGMLType t : KernelChecks.TYPES) {
            org.junit.jupiter.api.Assertions.assertEquals(t, WeightFormat.of(t).type());
        }
    }
}
