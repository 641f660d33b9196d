package dev.vecllama.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SamplerSettingsTest {

    @Test
    void defaultsAreLlamaCppsCommonSamplingParameters() {
        SamplerSettings s = SamplerSettings.builder().build();
        assertEquals(0.8f, s.temperature());
        assertEquals(40, s.topK());
        assertEquals(0.95f, s.topP());
        assertEquals(0.05f, s.minP());
        assertEquals(1.0f, s.repetitionPenalty());
        assertEquals(64, s.repeatLastN());
    }

    @Test
    void theDefaultSeedIsRandomAndCanBeReadBack() {
        long a = SamplerSettings.builder().build().seed();
        long b = SamplerSettings.builder().build().seed();
        assertNotEquals(a, b, "two unseeded samplers should not repeat each other");
        assertEquals(42L, SamplerSettings.builder().seed(42).build().seed());
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                bad(b -> b.temperature(-0.1f), "temperature must be a finite number >= 0 (0 = greedy), got -0.1"),
                bad(b -> b.temperature(Float.NaN), "temperature must be a finite number >= 0 (0 = greedy), got NaN"),
                bad(b -> b.temperature(Float.POSITIVE_INFINITY), "got Infinity"),
                bad(b -> b.topK(-1), "top-k must be >= 0 (0 = off), got -1"),
                bad(b -> b.topP(1.5f), "top-p must be in [0, 1] (1 = off), got 1.5"),
                bad(b -> b.topP(-0.01f), "top-p must be in [0, 1] (1 = off), got -0.01"),
                bad(b -> b.topP(Float.NaN), "top-p must be in [0, 1] (1 = off), got NaN"),
                bad(b -> b.minP(-0.1f), "min-p must be in [0, 1] (0 = off), got -0.1"),
                bad(b -> b.minP(1.01f), "min-p must be in [0, 1] (0 = off), got 1.01"),
                bad(b -> b.repetitionPenalty(0), "repetition penalty must be a finite number > 0 (1 = off), got 0.0"),
                bad(b -> b.repetitionPenalty(-1.1f), "repetition penalty must be a finite number > 0 (1 = off), got -1.1"),
                bad(b -> b.repetitionPenalty(Float.NaN), "repetition penalty must be a finite number > 0 (1 = off), got NaN"),
                bad(b -> b.repeatLastN(-1), "repeat-last-n must be >= 0, got -1"));
    }

    private static Arguments bad(UnaryOperator<SamplerSettings.Builder> change, String message) {
        return Arguments.of(change, message);
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("invalid")
    void invalidSettingsAreRejectedWithTheirValue(UnaryOperator<SamplerSettings.Builder> change, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> change.apply(SamplerSettings.builder()).build());
        assertTrue(e.getMessage().contains(message), () -> "\"" + e.getMessage() + "\" lacks \"" + message + "\"");
    }

    @Test
    void boundaryValuesAreAccepted() {
        SamplerSettings.builder().temperature(0).topK(0).topP(0).minP(1).repeatLastN(0).build();
        SamplerSettings.builder().topP(1).minP(0).repetitionPenalty(1e-3f).build();
    }
}
