package dev.vecllama.model;

import dev.vecllama.testutil.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** One llama.cpp reference file from ../shared/reference: a prompt and what llama.cpp computed for it. */
record Reference(String id, String modelFile, String prompt, int[] promptTokens, int[][] topTokens, float[][] topLogits,
                 int fullLogitsPos, float[] fullLogits, int[] greedy) {

    static final Path DIR = Path.of("../shared/reference");
    static final Path MODELS = Path.of("../shared/models");

    Path modelPath() {
        return MODELS.resolve(modelFile);
    }

    /** Every reference file of one model (by file stem), sorted by name. */
    static List<Reference> forModel(String stem) {
        try (Stream<Path> files = Files.list(DIR)) {
            List<Reference> refs = new ArrayList<>();
            for (Path p : files.filter(f -> f.getFileName().toString().startsWith(stem + ".")).sorted().toList()) {
                refs.add(read(p));
            }
            return refs;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    static Reference read(Path p) throws IOException {
        Map<String, Object> m = (Map<String, Object>) Json.parse(Files.readString(p));
        List<Object> top = (List<Object>) m.get("prompt_top10");
        int[][] tt = new int[top.size()][];
        float[][] tl = new float[top.size()][];
        for (int i = 0; i < top.size(); i++) {
            List<Object> row = (List<Object>) top.get(i);
            tt[i] = new int[row.size()];
            tl[i] = new float[row.size()];
            for (int j = 0; j < row.size(); j++) {
                List<Object> pair = (List<Object>) row.get(j);
                tt[i][j] = ((Double) pair.get(0)).intValue();
                tl[i][j] = ((Double) pair.get(1)).floatValue();
            }
        }
        List<Object> full = (List<Object>) m.get("full_logits");
        int fullPos = -1;
        float[] fullLogits = null;
        if (!full.isEmpty()) {
            Map<String, Object> f = (Map<String, Object>) full.get(0);
            fullPos = ((Double) f.get("pos")).intValue();
            fullLogits = floats((List<Object>) f.get("logits"));
        }
        String name = p.getFileName().toString();
        return new Reference(name.substring(0, name.length() - ".json".length()), (String) m.get("model"),
                (String) m.get("prompt"), ints((List<Object>) m.get("prompt_tokens")), tt, tl, fullPos, fullLogits,
                ints((List<Object>) m.get("greedy")));
    }

    private static int[] ints(List<Object> l) {
        int[] r = new int[l.size()];
        for (int i = 0; i < r.length; i++) r[i] = ((Double) l.get(i)).intValue();
        return r;
    }

    private static float[] floats(List<Object> l) {
        float[] r = new float[l.size()];
        for (int i = 0; i < r.length; i++) r[i] = ((Double) l.get(i)).floatValue();
        return r;
    }

    @Override
    public String toString() {
        return id;
    }
}
