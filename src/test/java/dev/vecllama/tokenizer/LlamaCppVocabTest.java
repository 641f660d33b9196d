package dev.vecllama.tokenizer;

import dev.vecllama.gguf.GGUFFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** llama.cpp's own tokenizer test vectors (tests/test-tokenizer-0): every string must give exactly its ids. */
class LlamaCppVocabTest {
    static final Path VOCAB = Path.of("../shared/vocab");
    private static final Map<String, Tokenizer> CACHE = new ConcurrentHashMap<>();

    record Case(String text, int[] ids) {
    }

    static Tokenizer tokenizer(String name) {
        return CACHE.computeIfAbsent(name, n -> {
            try (GGUFFile f = GGUFFile.open(VOCAB.resolve("ggml-vocab-" + n + ".gguf"))) {
                return Tokenizer.fromGGUF(f);
            }
        });
    }

    /** Reads NAME.gguf.inp/.out the way test-tokenizer-0 does: inputs separated by "\n__ggml_vocab_test__\n". */
    static List<Case> cases(String name) throws IOException {
        String raw = Files.readString(VOCAB.resolve("ggml-vocab-" + name + ".gguf.inp"));
        List<String> outs = Files.readAllLines(VOCAB.resolve("ggml-vocab-" + name + ".gguf.out"));
        String sep = "\n__ggml_vocab_test__\n";
        List<String> inputs = new ArrayList<>();
        for (int pos = 0; pos < raw.length(); ) {
            int next = raw.indexOf(sep, pos);
            if (next < 0) {
                inputs.add(raw.substring(pos));
                break;
            }
            inputs.add(raw.substring(pos, next));
            pos = next + sep.length();
        }
        assertEquals(outs.size(), inputs.size(), "inputs and outputs of " + name);
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            String o = outs.get(i).strip();
            int[] ids = o.isEmpty() ? new int[0] : Arrays.stream(o.split(" ")).mapToInt(Integer::parseInt).toArray();
            cases.add(new Case(inputs.get(i), ids));
        }
        return cases;
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-spm", "llama-bpe", "gpt-2"})
    void everyLineMatchesLlamaCpp(String name) throws IOException {
        Tokenizer t = tokenizer(name);
        List<Case> cases = cases(name);
        List<String> failures = new ArrayList<>();
        for (Case c : cases) {
            int[] got = t.encode(c.text(), false, false);
            if (!Arrays.equals(c.ids(), got)) {
                failures.add("'" + c.text() + "': expected " + Arrays.toString(c.ids()) + " got " + Arrays.toString(got));
            }
        }
        System.out.println(name + ": " + (cases.size() - failures.size()) + "/" + cases.size() + " lines match llama.cpp");
        assertTrue(cases.size() >= 40, "test vectors of " + name + " were not read");
        assertTrue(failures.isEmpty(), failures.size() + " of " + cases.size() + " differ:\n" + String.join("\n", failures));
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-spm", "llama-bpe", "gpt-2"})
    void decodeInvertsEncode(String name) throws IOException {
        Tokenizer t = tokenizer(name);
        for (Case c : cases(name)) {
            assertEquals(c.text(), t.decode(t.encode(c.text(), false, false)), "round trip without BOS");
            assertEquals(c.text(), t.decode(t.encode(c.text(), true, false)), "round trip with BOS");
        }
    }

    @Test
    void streamedPiecesJoinToTheSameText() throws IOException {
        Tokenizer t = tokenizer("llama-bpe");
        for (Case c : cases("llama-bpe")) {
            var out = new java.io.ByteArrayOutputStream();
            for (int id : c.ids()) out.writeBytes(t.decodeBytes(id));
            assertEquals(c.text(), out.toString(java.nio.charset.StandardCharsets.UTF_8));
        }
    }
}
