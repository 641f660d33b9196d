package dev.vecllama.tokenizer;

import dev.vecllama.gguf.GGUFFile;
import dev.vecllama.testutil.Json;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Every reference prompt tokenizes exactly as llama.cpp did for its model (BOS as the model's metadata says). */
class ModelReferenceTest {
    private static final Path REFERENCE = Path.of("../shared/reference");
    private static final Path MODELS = Path.of("../shared/models");

    @TestFactory
    Stream<DynamicTest> referencePromptsTokenizeExactly() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(REFERENCE)) {
            files = s.filter(p -> p.getFileName().toString().matches(".+\\.[a-z]+\\.json")).sorted().toList();
        }
        assertFalse(files.isEmpty(), "no reference files in " + REFERENCE.toAbsolutePath());
        Map<String, Tokenizer> byModel = new HashMap<>();
        List<DynamicTest> tests = new ArrayList<>();
        for (Path file : files) {
            tests.add(DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
                Map<?, ?> ref = (Map<?, ?>) Json.parse(Files.readString(file));
                String model = (String) ref.get("model");
                Tokenizer t = byModel.computeIfAbsent(model, m -> {
                    try (GGUFFile f = GGUFFile.open(MODELS.resolve(m))) {
                        return Tokenizer.fromGGUF(f);
                    }
                });
                String prompt = (String) ref.get("prompt");
                int[] expected = ((List<?>) ref.get("prompt_tokens")).stream().mapToInt(o -> ((Number) o).intValue()).toArray();
                assertArrayEquals(expected, t.encode(prompt), prompt);
                assertArrayEquals(expected, t.encode(prompt, t.addBosByDefault(), false), prompt);
                assertEquals(prompt, t.decode(expected));
            }));
        }
        return tests.stream();
    }
}
