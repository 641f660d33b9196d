package dev.vecllama.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The files llama.cpp wrote, checked against what ../shared documents about them. */
class GGUFRealFilesTest {
    private static final Path MODELS = Path.of("../shared/models");
    private static final Path VOCAB = Path.of("../shared/vocab");

    /** One row of the table in MODELS.md. */
    record ModelRow(String file, String arch, Map<String, Integer> typeCounts, String embeddingType) {
        @Override
        public String toString() {
            return file;
        }
    }

    /** Rows look like {@code | vl-tiny-f-Q4_K_M.gguf | llama | 10.2 MB | F32×13, Q4_K×38, Q6_K×5 | token_embd Q6_K |}. */
    static List<ModelRow> modelRows() throws IOException {
        return Files.readAllLines(MODELS.resolve("MODELS.md")).stream()
                .map(line -> line.split("\\|"))
                .filter(cells -> cells.length >= 6 && cells[1].trim().endsWith(".gguf"))
                .map(cells -> new ModelRow(cells[1].trim(), cells[2].trim(), typeCounts(cells[4]),
                        cells[5].trim().replaceFirst("^token_embd ", "")))
                .toList();
    }

    private static Map<String, Integer> typeCounts(String cell) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (String part : cell.trim().split(",\\s*")) {
            String[] typeAndCount = part.split("×");
            m.put(typeAndCount[0], Integer.parseInt(typeAndCount[1]));
        }
        return m;
    }

    @Test
    void theTableDescribesEveryModelFile() throws IOException {
        List<String> table = modelRows().stream().map(ModelRow::file).sorted().toList();
        try (Stream<Path> files = Files.list(MODELS)) {
            List<String> onDisk = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".gguf")).sorted().toList();
            assertEquals(onDisk, table);
        }
        assertTrue(table.size() >= 9, "MODELS.md table parsed to " + table);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modelRows")
    void modelFilesMatchTheirDescription(ModelRow row) {
        try (GGUFFile f = GGUFFile.open(MODELS.resolve(row.file()))) {
            assertEquals(3, f.version());
            assertEquals(row.arch(), f.getString("general.architecture"));
            assertEquals(row.typeCounts(), f.tensorTypeCounts());
            assertEquals(row.embeddingType(), f.tensor("token_embd.weight").type().name());
            assertEquals(0, f.dataStart() % f.alignment());
            for (TensorInfo t : f.tensors().values()) {
                assertEquals(0, t.offset() % f.alignment(), t.name());
                assertEquals(t.byteSize(), f.tensorData(t).byteSize(), t.name());
            }
        }
    }

    /** From ../shared/README.md. */
    record VocabFile(String file, String arch, String tokenizer, int tokens) {
        @Override
        public String toString() {
            return file;
        }
    }

    static final List<VocabFile> VOCAB_FILES = List.of(
            new VocabFile("ggml-vocab-llama-spm.gguf", "llama", "llama", 32000),
            new VocabFile("ggml-vocab-llama-bpe.gguf", "llama", "gpt2", 128256),
            new VocabFile("ggml-vocab-gpt-2.gguf", "gpt2", "gpt2", 50257));

    @ParameterizedTest(name = "{0}")
    @MethodSource("vocabFiles")
    void vocabFilesHoldOnlyTheirVocabulary(VocabFile v) {
        try (GGUFFile f = GGUFFile.open(VOCAB.resolve(v.file()))) {
            assertEquals(v.arch(), f.getString("general.architecture"));
            assertEquals(v.tokenizer(), f.getString("tokenizer.ggml.model"));
            assertEquals(v.tokens(), f.getStringArray("tokenizer.ggml.tokens").length);
            assertEquals(Map.of(), f.tensors());
        }
    }

    static List<VocabFile> vocabFiles() {
        return VOCAB_FILES;
    }

    @Test
    void everyVocabFileIsCovered() throws IOException {
        try (Stream<Path> files = Files.list(VOCAB)) {
            List<String> onDisk = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".gguf")).sorted().toList();
            assertEquals(onDisk, VOCAB_FILES.stream().map(VocabFile::file).sorted().toList());
        }
    }
}
