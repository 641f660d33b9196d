package dev.vecllama.activation;

import org.junit.jupiter.api.Test;

class VectorQuantizerTest {
    @Test
    void vectorQuantizersGiveTheReferencesBytes() {
        QuantizerChecks.checkAll();
    }
}
