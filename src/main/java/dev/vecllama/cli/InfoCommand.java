package dev.vecllama.cli;

import dev.vecllama.gguf.FileType;
import dev.vecllama.gguf.GGUFFile;
import dev.vecllama.gguf.TensorInfo;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code info model.gguf}: what a GGUF file holds, read from its header alone. */
@Command(name = "info", description = "Show a GGUF file's architecture, size, types and tokenizer.")
final class InfoCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = "GGUF file")
    Path model;

    @Override
    public Integer call() {
        try (GGUFFile f = GGUFFile.open(model)) {
            print(f, System.out);
        }
        return 0;
    }

    static void print(GGUFFile f, PrintStream out) {
        String arch = f.getString("general.architecture", "unknown");
        long params = 0, bytes = 0, typedParams = 0;
        for (TensorInfo t : f.tensors().values()) {
            params += t.elementCount();
            if (t.type() != null) {
                bytes += t.byteSize();
                typedParams += t.elementCount();
            }
        }
        String[] tokens = f.has("tokenizer.ggml.tokens") ? f.getStringArray("tokenizer.ggml.tokens") : null;
        row(out, "file", f.path() + " (GGUF v" + f.version() + ")");
        row(out, "file size", String.format("%,d bytes (%.2f MiB)", f.fileSize(), f.fileSize() / 1048576.0));
        row(out, "architecture", arch);
        if (f.has("general.name")) row(out, "name", f.getString("general.name"));
        row(out, "parameters", String.format("%,d (%s)", params, human(params)));
        row(out, "file type", f.has("general.file_type") ? FileType.name(f.getInt("general.file_type")) : "not stated");
        row(out, "bits per weight", typedParams == 0 ? "-" : String.format("%.2f", 8.0 * bytes / typedParams));
        row(out, "context length", f.has(arch + ".context_length") ? String.valueOf(f.getLong(arch + ".context_length")) : "not stated");
        if (f.has(arch + ".embedding_length")) {
            row(out, "shape", String.format("dim %d, %d layers, %d heads / %d kv heads, ffn %d",
                    f.getLong(arch + ".embedding_length"), f.getLong(arch + ".block_count", 0),
                    f.getLong(arch + ".attention.head_count", 0),
                    f.getLong(arch + ".attention.head_count_kv", f.getLong(arch + ".attention.head_count", 0)),
                    f.getLong(arch + ".feed_forward_length", 0)));
        }
        String model = f.getString("tokenizer.ggml.model", "none");
        String pre = f.has("tokenizer.ggml.pre") ? ", pre " + f.getString("tokenizer.ggml.pre") : "";
        row(out, "tokenizer", model + pre + (tokens == null ? "" : ", " + tokens.length + " tokens"));
        row(out, "chat template", f.has("tokenizer.chat_template") ? "present" : "none");
        StringBuilder types = new StringBuilder();
        f.tensorTypeCounts().forEach((k, v) -> types.append(types.isEmpty() ? "" : ", ").append(k).append(" x").append(v));
        row(out, "tensors", f.tensors().size() + " (" + types + ")");
    }

    private static void row(PrintStream out, String key, String value) {
        out.printf("%-16s %s%n", key + ":", value);
    }

    private static String human(long n) {
        if (n >= 1_000_000_000L) return String.format("%.2fB", n / 1e9);
        if (n >= 1_000_000L) return String.format("%.1fM", n / 1e6);
        return String.format("%.1fK", n / 1e3);
    }
}
