package dev.vecllama.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Clients that hit a server at once, each sending its requests one after another (chat and text
 * completions, whole and streamed, in turn), checking every answer's shape and timing them: the
 * server's benchmark, and the load test of its tests.
 */
public final class LoadTest {
    private static final Set<String> FINISH_REASONS = Set.of("stop", "length");

    /**
     * @param failures        what was wrong with each failed request (status, shape, timeout)
     * @param msPerToken      mean time between streamed tokens, the latency a reader sees per token
     * @param firstTokenMsP50 median time from sending a streamed request to its first token
     */
    public record Report(int requests, List<String> failures, double seconds, long completionTokens,
                         double msPerToken, double firstTokenMsP50, double latencyMsP50, double latencyMsP95) {
        public double requestsPerSecond() {
            return requests / seconds;
        }

        public double tokensPerSecond() {
            return completionTokens / seconds;
        }

        public String summary() {
            return String.format("%d requests in %.1f s: %.2f requests/s, %.1f tokens/s | per token %.1f ms (streamed), "
                            + "first token p50 %.0f ms | latency p50 %.0f ms, p95 %.0f ms | %d failed",
                    requests, seconds, requestsPerSecond(), tokensPerSecond(), msPerToken, firstTokenMsP50,
                    latencyMsP50, latencyMsP95, failures.size());
        }
    }

    private final URI base;
    private final String apiKey;
    private final int maxTokens;
    private final Duration requestTimeout;
    private final HttpClient http;
    private final Queue<String> failures = new ConcurrentLinkedQueue<>();
    private final Queue<Double> latencies = new ConcurrentLinkedQueue<>(), firstTokens = new ConcurrentLinkedQueue<>(),
            tokenGaps = new ConcurrentLinkedQueue<>();
    private final AtomicLong tokens = new AtomicLong();

    private LoadTest(URI base, String apiKey, int maxTokens, Duration requestTimeout) {
        this.base = base;
        this.apiKey = apiKey;
        this.maxTokens = maxTokens;
        this.requestTimeout = requestTimeout;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    }

    /**
     * Runs {@code clients} × {@code requestsPerClient} requests of up to {@code maxTokens} tokens each against
     * the server at {@code base} (e.g. {@code http://127.0.0.1:8080}); gives up on a request after
     * {@code requestTimeout}, and on the whole after {@code total}.
     */
    public static Report run(URI base, String apiKey, int clients, int requestsPerClient, int maxTokens,
                             Duration requestTimeout, Duration total) throws InterruptedException {
        LoadTest t = new LoadTest(base, apiKey, maxTokens, requestTimeout);
        long t0 = System.nanoTime();
        try (ExecutorService pool = Executors.newFixedThreadPool(clients)) {
            for (int c = 0; c < clients; c++) {
                int client = c;
                pool.submit(() -> {
                    for (int r = 0; r < requestsPerClient; r++) t.request(client, r);
                });
            }
            pool.shutdown();
            if (!pool.awaitTermination(total.toMillis(), TimeUnit.MILLISECONDS)) {
                pool.shutdownNow();
                t.failures.add("the load did not finish within " + total);
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new Report(clients * requestsPerClient, List.copyOf(t.failures), seconds, t.tokens.get(),
                mean(t.tokenGaps), percentile(t.firstTokens, 50), percentile(t.latencies, 50), percentile(t.latencies, 95));
    }

    private void request(int client, int n) {
        boolean chat = n % 4 < 2, stream = n % 2 == 1;
        String question = "Question " + n + " from client " + client + ": what does the list type do?";
        String body = chat
                ? "{\"messages\":[{\"role\":\"user\",\"content\":\"" + question + "\"}]"
                : "{\"prompt\":\"" + question + "\"";
        body += ",\"max_tokens\":" + maxTokens + ",\"stream\":" + stream + ",\"seed\":" + n + ",\"temperature\":0.8}";
        String what = (chat ? "chat" : "text") + (stream ? " stream" : "") + " request " + n + " of client " + client;
        HttpRequest.Builder req = HttpRequest.newBuilder(base.resolve(chat ? "/v1/chat/completions" : "/v1/completions"))
                .timeout(requestTimeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (apiKey != null) req.header("Authorization", "Bearer " + apiKey);
        long t0 = System.nanoTime();
        try {
            if (stream) {
                HttpResponse<Stream<String>> r = http.send(req.build(), HttpResponse.BodyHandlers.ofLines());
                if (r.statusCode() != 200) {
                    failures.add(what + ": HTTP " + r.statusCode() + " " + String.join("\n", r.body().toList()));
                    return;
                }
                checkStream(r.body(), chat, t0);
            } else {
                HttpResponse<String> r = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) {
                    failures.add(what + ": HTTP " + r.statusCode() + " " + r.body());
                    return;
                }
                checkWhole(OpenAIServer.JSON.readTree(r.body()), chat);
            }
            latencies.add((System.nanoTime() - t0) / 1e6);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failures.add(what + ": interrupted");
        } catch (Exception e) {
            failures.add(what + ": " + e);
        }
    }

    private void checkWhole(JsonNode r, boolean chat) {
        require(r.path("object").asText().equals(chat ? "chat.completion" : "text_completion"), "object", r);
        JsonNode choice = r.path("choices").path(0);
        JsonNode text = chat ? choice.path("message").path("content") : choice.path("text");
        require(text.isTextual(), "text", r);
        require(FINISH_REASONS.contains(choice.path("finish_reason").asText()), "finish_reason", r);
        JsonNode usage = r.path("usage");
        int completion = usage.path("completion_tokens").asInt(-1), prompt = usage.path("prompt_tokens").asInt(-1);
        require(completion >= 0 && completion <= maxTokens && prompt > 0
                && usage.path("total_tokens").asInt() == prompt + completion, "usage", r);
        tokens.addAndGet(completion);
    }

    private void checkStream(Stream<String> lines, boolean chat, long t0) throws Exception {
        List<String> events = new ArrayList<>();
        List<Long> arrivals = new ArrayList<>();
        for (String line : (Iterable<String>) lines::iterator) {
            if (line.isEmpty()) continue;
            require(line.startsWith("data: "), "an SSE data line", line);
            events.add(line.substring("data: ".length()));
            arrivals.add(System.nanoTime());
        }
        require(!events.isEmpty() && events.getLast().equals("[DONE]"), "[DONE] last", events);
        String finish = null;
        int pieces = 0;
        List<Long> pieceTimes = new ArrayList<>();
        for (int i = 0; i < events.size() - 1; i++) {
            JsonNode e = OpenAIServer.JSON.readTree(events.get(i));
            require(e.path("object").asText().equals(chat ? "chat.completion.chunk" : "text_completion"), "object", e);
            JsonNode choice = e.path("choices").path(0);
            JsonNode text = chat ? choice.path("delta").path("content") : choice.path("text");
            if (!choice.path("finish_reason").isNull()) finish = choice.path("finish_reason").asText();
            if (text.isTextual() && !text.asText().isEmpty()) {
                pieces++;
                pieceTimes.add(arrivals.get(i));
            }
        }
        require(finish != null && FINISH_REASONS.contains(finish), "a finish_reason", events);
        require(pieces <= maxTokens, "at most max_tokens pieces", events);
        tokens.addAndGet(pieces);
        if (!pieceTimes.isEmpty()) firstTokens.add((pieceTimes.getFirst() - t0) / 1e6);
        for (int i = 1; i < pieceTimes.size(); i++) tokenGaps.add((pieceTimes.get(i) - pieceTimes.get(i - 1)) / 1e6);
    }

    private static void require(boolean ok, String what, Object in) {
        if (!ok) throw new IllegalStateException("malformed answer (" + what + "): " + in);
    }

    private static double mean(Queue<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    private static double percentile(Queue<Double> xs, int p) {
        List<Double> sorted = new ArrayList<>(xs);
        if (sorted.isEmpty()) return Double.NaN;
        Collections.sort(sorted);
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }
}
