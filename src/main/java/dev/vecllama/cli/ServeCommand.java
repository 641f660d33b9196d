package dev.vecllama.cli;

import dev.vecllama.chat.ChatFormat;
import dev.vecllama.model.Model;
import dev.vecllama.server.LoadTest;
import dev.vecllama.server.OpenAIServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code serve MODEL}: the OpenAI-compatible HTTP server. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Serve a model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/completions, /v1/models, /health).")
final class ServeCommand implements Callable<Integer> {
    private static final int BENCH_CLIENTS = 8, BENCH_REQUESTS = 20, BENCH_TOKENS = 16;

    @Parameters(index = "0", paramLabel = "MODEL", description = "GGUF model file")
    Path model;

    @Option(names = "--host", description = "address to listen on (default: ${DEFAULT-VALUE}, this machine only)")
    String host = "127.0.0.1";

    @Option(names = "--port", description = "port; 0 = any free one (default: ${DEFAULT-VALUE})")
    int port = 8080;

    @Option(names = {"-np", "--parallel"}, description = "requests generated at once, each with its own KV cache (default: ${DEFAULT-VALUE})")
    int parallel = 2;

    @Option(names = "--queue", description = "requests that may wait for a free slot; more get 503 (default: ${DEFAULT-VALUE})")
    int queue = 16;

    @Option(names = {"-c", "--ctx-size"}, description = "context size of each slot in tokens (default: the model's, at most 4096)")
    Integer contextSize;

    @Option(names = {"-t", "--threads"}, description = "threads (default: all cores)")
    Integer threads;

    @Option(names = {"-b", "--batch-size"}, description = "prompt tokens per batch (default: ${DEFAULT-VALUE})")
    int batchSize = 512;

    @Option(names = "--chat-template", paramLabel = "NAME|FILE", description = "chat template: a built-in family or a Jinja file (default: the model's own)")
    String chatTemplate;

    @Option(names = "--api-key", paramLabel = "KEY", defaultValue = "${env:VECLLAMA_API_KEY}",
            description = "require Authorization: Bearer KEY (default: $VECLLAMA_API_KEY; none if unset)")
    String apiKey;

    @Option(names = "--max-body", paramLabel = "BYTES", description = "largest request body accepted (default: ${DEFAULT-VALUE})")
    int maxBody = 1 << 20;

    @Option(names = "--bench", description = "instead of serving: start on a free port, send " + BENCH_CLIENTS + " clients x "
            + BENCH_REQUESTS + " requests of " + BENCH_TOKENS + " tokens, print requests/s and per-token latency, stop")
    boolean bench;

    @Override
    public Integer call() throws Exception {
        try (Model m = Model.load(model, Options.threads(threads))) {
            int ctx = Options.contextSize(contextSize, m.config.contextLength());
            ChatFormat format = ChatFormat.of(m.file, m.tokenizer, chatTemplate);
            String id = model.getFileName().toString().replaceFirst("\\.gguf$", "");
            OpenAIServer.Settings settings = new OpenAIServer.Settings(bench ? "127.0.0.1" : host, bench ? 0 : port,
                    parallel, queue, ctx, Options.batch(batchSize, ctx), apiKey == null || apiKey.isEmpty() ? null : apiKey, maxBody);
            try (OpenAIServer server = start(m, format, id, settings)) {
                if (bench) return bench(server, settings.apiKey(), m.threads());
                System.err.printf("%s%nserving %s at http://%s:%d/v1 (%d slots of %d tokens, queue %d%s); Ctrl-C stops%n",
                        format.describe(), id, host, server.port(), parallel, ctx, queue, settings.apiKey() == null ? "" : ", API key required");
                new CountDownLatch(1).await(); // until the process is stopped
            }
        }
        return 0;
    }

    private static OpenAIServer start(Model m, ChatFormat format, String id, OpenAIServer.Settings s) {
        try {
            return OpenAIServer.start(m, format, id, s);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + s.host() + ":" + s.port() + ": " + e.getMessage(), e);
        }
    }

    private int bench(OpenAIServer server, String key, int threads) throws InterruptedException {
        URI base = URI.create("http://127.0.0.1:" + server.port());
        LoadTest.run(base, key, 2, 2, BENCH_TOKENS, Duration.ofMinutes(1), Duration.ofMinutes(2)); // warm-up
        LoadTest.Report r = LoadTest.run(base, key, BENCH_CLIENTS, BENCH_REQUESTS, BENCH_TOKENS, Duration.ofMinutes(2), Duration.ofMinutes(10));
        System.out.printf("%s | model %s, %d threads, %d slots%n", r.summary(), model.getFileName(), threads, parallel);
        r.failures().stream().limit(5).forEach(f -> System.err.println("failed: " + f));
        return r.failures().isEmpty() ? 0 : 1;
    }
}
