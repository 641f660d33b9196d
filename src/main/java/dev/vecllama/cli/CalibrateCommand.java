package dev.vecllama.cli;

import dev.vecllama.activation.Calibrator;
import dev.vecllama.activation.Calibrator.Method;
import dev.vecllama.eval.Calibration;
import dev.vecllama.eval.ChunkPlan;
import dev.vecllama.model.ActivationScalesFile;
import dev.vecllama.model.LinearInputs;
import dev.vecllama.model.Model;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code calibrate MODEL -f calib.txt -o scales.gguf}: measures every linear layer's input over a
 * text and writes the static activation scales of every range method into a sidecar GGUF.
 */
@Command(name = "calibrate", sortOptions = false,
        description = "Run the model over a calibration text and write static activation scales (every method's, "
                + "--method's as the default) to a small GGUF for --act-quant static.")
final class CalibrateCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = "GGUF model file (preferably the full-precision one)")
    Path model;

    @Option(names = {"-f", "--file"}, paramLabel = "TEXT", description = "calibration text")
    Path textFile;

    @Option(names = {"-o", "--output"}, paramLabel = "OUT", required = true, description = "the scales file to write")
    Path output;

    @picocli.CommandLine.Mixin
    ChunkOptions chunks = new ChunkOptions();

    @Option(names = "--method", paramLabel = "METHOD",
            description = "the range method whose scales are the file's default: absmax, p99.9, p99.99, mse, entropy (default: ${DEFAULT-VALUE})")
    String method = "mse";

    @Override
    public Integer call() {
        Method chosen = Method.parse(method);
        checkOutput();
        String text = TextFiles.read(textFile, "the calibration text");
        if (text.isBlank()) throw new IllegalArgumentException("the calibration text " + textFile + " is empty");
        try (Model m = Model.load(model, chunks.threads())) {
            int nCtx = chunks.contextSize(m);
            ChunkPlan plan = Calibration.plan(m, text, nCtx, chunks.maxChunks);
            System.err.printf("calibrate: %d tokens, %d chunks of %d, %d linear inputs, %d threads%n",
                    plan.tokens().length, plan.chunks(), nCtx, LinearInputs.count(m.config.layers()), m.threads());
            Calibrator[] calibrators = Calibration.run(m, plan, chunks.batch, System.err);
            ActivationScalesFile.write(output, m, calibrators, chosen, new ActivationScalesFile.Source(
                    model.getFileName().toString(), textFile.getFileName().toString(), nCtx, plan.chunks(),
                    (long) plan.chunks() * nCtx));
            System.err.println("wrote " + output + " (" + chosen.id + " scales by default)");
        }
        return 0;
    }

    /** Before the model runs: a bad output path should not cost a whole calibration. */
    private void checkOutput() {
        Path dir = output.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) throw new IllegalArgumentException("the output directory " + dir + " does not exist");
        if (Files.isDirectory(output)) throw new IllegalArgumentException("the output " + output + " is a directory");
        try {
            if (Files.exists(output) && Files.exists(model) && Files.isSameFile(model, output)) {
                throw new IllegalArgumentException("the output " + output + " would overwrite the model");
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot check " + output + ": " + e.getMessage(), e);
        }
    }
}
