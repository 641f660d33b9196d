package dev.vecllama.kernel;

import org.junit.jupiter.api.Test;

class SwigluTest {
    @Test
    void denseRanges() {
        SwigluChecks.denseRanges();
    }

    @Test
    void randomGatesEveryLengthAndTail() {
        SwigluChecks.randomGatesEveryLengthAndTail();
    }

    @Test
    void specialValues() {
        SwigluChecks.specialValues();
    }
}
