package dev.vecllama.cli;

import dev.vecllama.gguf.GGUFFile;
import dev.vecllama.model.SyntheticModel;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code gen-model SHAPE:TYPE OUT}: a random-weight GGUF of a real model's shape, for benchmarks. */
@Command(name = "gen-model", description = {
        "Write a random-weight GGUF of a real model shape, for benchmarks at scale.",
        "SPEC is SHAPE:TYPE, SHAPE one of tiny, llama-1b, llama-3b, llama-7b; TYPE one of F32, F16, BF16, Q8_0, Q4_0, Q4_K_M, TQ2_0, TQ1_0."})
final class GenModelCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "SPEC", description = "e.g. llama-1b:Q4_K_M")
    String spec;

    @Parameters(index = "1", paramLabel = "OUT", description = "GGUF file to write")
    Path out;

    @Option(names = "--vocab-from", paramLabel = "GGUF", description = "file whose tokenizer to copy (default: the bundled model)")
    Path vocabFrom;

    @Override
    public Integer call() {
        int colon = spec.indexOf(':');
        if (colon < 0) throw new IllegalArgumentException("SPEC must be SHAPE:TYPE, e.g. llama-1b:Q4_K_M; got '" + spec + "'");
        SyntheticModel.Shape shape = SyntheticModel.SHAPES.get(spec.substring(0, colon));
        if (shape == null) {
            throw new IllegalArgumentException("unknown shape '" + spec.substring(0, colon) + "' (one of "
                    + SyntheticModel.SHAPES.keySet() + ")");
        }
        Path vocab = vocabFrom != null ? vocabFrom : bundledModel();
        long t0 = System.nanoTime();
        try (GGUFFile v = GGUFFile.open(vocab)) {
            SyntheticModel.write(shape, spec.substring(colon + 1), v, out, System.err::println);
        }
        System.err.printf("wrote %s in %.1f s%n", out, (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    /** models/vl-tiny-f-Q4_K_M.gguf beside the jar's target/ folder. */
    private static Path bundledModel() {
        try {
            Path jar = Path.of(GenModelCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path p = jar.getParent().resolveSibling("models").resolve("vl-tiny-f-Q4_K_M.gguf");
            if (Files.exists(p)) return p;
        } catch (URISyntaxException | RuntimeException e) {
            // fall through to the message below
        }
        throw new IllegalArgumentException("cannot find the bundled models/vl-tiny-f-Q4_K_M.gguf; pass --vocab-from FILE");
    }
}
