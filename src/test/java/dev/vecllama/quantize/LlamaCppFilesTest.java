package dev.vecllama.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vecllama.quant.ModelQuantizer;
import dev.vecllama.quant.ModelQuantizer.Target;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Our quantizer against llama-quantize on the shared model: same tensor types, same blocks, same
 * metadata, same layout: the whole file must come out byte for byte as llama.cpp's (so its logits
 * and perplexity are llama.cpp's too).
 */
class LlamaCppFilesTest {
    private static final Path MODELS = Path.of("../shared/models");

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"Q8_0", "Q4_0", "Q4_K_M"})
    void sameFileAsLlamaQuantize(String type) throws IOException {
        Path ours = dir.resolve("ours.gguf");
        ModelQuantizer.quantize(MODELS.resolve("vl-tiny-f-F16.gguf"), ours, Target.parse(type), false, 2, null);
        assertEquals(-1L, Files.mismatch(ours, MODELS.resolve("vl-tiny-f-" + type + ".gguf")),
                type + ": first differing byte offset");
    }
}
