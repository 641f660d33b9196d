package dev.vecllama.model;

import dev.vecllama.activation.Calibrator;
import dev.vecllama.activation.Calibrator.Method;
import dev.vecllama.gguf.GGUFFile;
import dev.vecllama.gguf.GGUFFormatException;
import dev.vecllama.gguf.GGUFWriter;
import dev.vecllama.gguf.MetadataValue;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The sidecar GGUF that {@code calibrate} writes: metadata only, no tensors, so it is a few KiB
 * beside a model of any size, and one calibration serves every weight type of the same model
 * (its Q8_0, Q4_0, Q4_K_M files). It holds, for every linear input ({@link LinearInputs}),
 * {@code vecllama.act_scale.<method>.<input>} for each calibration method and
 * {@code vecllama.act_scale.<input>} for the chosen one (scale = threshold / 127), plus
 * {@code vecllama.act_scales.*} keys naming the method, the model it was measured on and the text.
 */
public final class ActivationScalesFile {
    static final String PREFIX = "vecllama.act_scales.";
    private static final String SCALE = "vecllama.act_scale.";
    private static final int VERSION = 1;

    private ActivationScalesFile() {}

    /** Where the scales came from: recorded in the file, shown to users. */
    public record Source(String model, String text, int ctxSize, int chunks, long tokens) {}

    /** What must agree between the model calibrated and the model using the scales. */
    private record Identity(String name, String architecture, int layers, int dim, int ffnDim, int vocab) {
        static Identity of(GGUFFile model, LlamaConfig c) {
            return new Identity(model.getString("general.name", ""), c.architecture(), c.layers(), c.dim(), c.ffnDim(), c.vocabSize());
        }

        @Override
        public String toString() {
            return "'" + name + "' (" + architecture + ", " + layers + " layers, dim " + dim + ", ffn " + ffnDim + ", vocab " + vocab + ")";
        }
    }

    public static String key(Method m, String input) {
        return SCALE + m.id + "." + input;
    }

    public static String key(String input) {
        return SCALE + input;
    }

    /** Writes one scale per input and method; {@code calibrators} are indexed as {@link LinearInputs}. */
    public static void write(Path out, Model model, Calibrator[] calibrators, Method chosen, Source source) {
        LlamaConfig c = model.config;
        Identity id = Identity.of(model.file, c);
        GGUFWriter w = new GGUFWriter()
                .put("general.type", MetadataValue.string("vecllama.act_scales"))
                .put(PREFIX + "version", MetadataValue.uint32(VERSION))
                .put(PREFIX + "method", MetadataValue.string(chosen.id))
                .put(PREFIX + "model", MetadataValue.string(source.model()))
                .put(PREFIX + "model_name", MetadataValue.string(id.name()))
                .put(PREFIX + "architecture", MetadataValue.string(id.architecture()))
                .put(PREFIX + "block_count", MetadataValue.uint32(id.layers()))
                .put(PREFIX + "embedding_length", MetadataValue.uint32(id.dim()))
                .put(PREFIX + "feed_forward_length", MetadataValue.uint32(id.ffnDim()))
                .put(PREFIX + "vocab_size", MetadataValue.uint32(id.vocab()))
                .put(PREFIX + "text", MetadataValue.string(source.text()))
                .put(PREFIX + "ctx_size", MetadataValue.uint32(source.ctxSize()))
                .put(PREFIX + "chunks", MetadataValue.uint32(source.chunks()))
                .put(PREFIX + "tokens", MetadataValue.of(dev.vecllama.gguf.ValueType.UINT64, source.tokens()));
        for (int i = 0; i < calibrators.length; i++) {
            String input = LinearInputs.name(i, c.layers());
            w.put(key(input), MetadataValue.float32(calibrators[i].threshold(chosen) / 127f));
            for (Method m : Method.values()) w.put(key(m, input), MetadataValue.float32(calibrators[i].threshold(m) / 127f));
        }
        w.write(out);
    }

    /**
     * The scale of every linear input of {@code model} ({@link LinearInputs} order), for
     * {@code method} or, when null, the method chosen at calibration. Any mismatch is one line.
     */
    public static float[] read(Path path, GGUFFile model, LlamaConfig c, Method method) {
        if (!Files.exists(path)) throw new IllegalArgumentException("no such activation-scales file: " + path);
        try (GGUFFile f = GGUFFile.open(path)) {
            if (!f.has(PREFIX + "version")) {
                throw new IllegalArgumentException(path + " is not an activation-scales file (no " + PREFIX + "version; make one with calibrate)");
            }
            int version = f.getInt(PREFIX + "version");
            if (version != VERSION) throw new IllegalArgumentException(path + " has activation-scales version " + version + "; this vecllama reads " + VERSION);
            Identity mine = Identity.of(model, c), theirs;
            try {
                theirs = new Identity(f.getString(PREFIX + "model_name"), f.getString(PREFIX + "architecture"),
                        f.getInt(PREFIX + "block_count"), f.getInt(PREFIX + "embedding_length"), f.getInt(PREFIX + "feed_forward_length"),
                        f.getInt(PREFIX + "vocab_size"));
            } catch (GGUFFormatException e) {
                throw new IllegalArgumentException(path + ": " + e.getMessage(), e);
            }
            if (!mine.equals(theirs)) throw new IllegalArgumentException(path + " was calibrated on " + theirs + ", not on this model " + mine);
            float[] scales = new float[LinearInputs.count(c.layers())];
            for (int i = 0; i < scales.length; i++) {
                String input = LinearInputs.name(i, c.layers());
                String key = method == null ? key(input) : key(method, input);
                if (!f.has(key)) throw new IllegalArgumentException(path + " has no scale " + key);
                float s = f.getFloat(key, Float.NaN);
                if (!(s >= 0) || !Float.isFinite(s)) throw new IllegalArgumentException(path + ": " + key + " = " + s + " is not a valid scale");
                scales[i] = s;
            }
            return scales;
        }
    }
}
