package dev.vecllama.server;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.vecllama.chat.ChatFormat;
import dev.vecllama.model.Model;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An OpenAI-compatible HTTP API over one model: {@code POST /v1/chat/completions} and
 * {@code /v1/completions} (whole or streamed as Server-Sent Events), {@code GET /v1/models} and
 * {@code GET /health}. Requests run in parallel slots, each with its own KV cache; a bounded queue
 * holds the overflow and a request beyond it gets 503 at once. Every error is OpenAI's JSON error object.
 */
public final class OpenAIServer implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    /**
     * @param host     the address to listen on (127.0.0.1 keeps the server private to this machine)
     * @param port     0 picks a free port
     * @param parallel requests generated at once, each in its own slot
     * @param queue    requests that may wait for a slot
     * @param apiKey   null, or the key clients must send as {@code Authorization: Bearer KEY}
     */
    public record Settings(String host, int port, int parallel, int queue, int contextSize, int batchSize,
                           String apiKey, int maxBodyBytes) {
        public Settings {
            if (parallel < 1) throw new IllegalArgumentException("--parallel must be at least 1, got " + parallel);
            if (queue < 0) throw new IllegalArgumentException("--queue must be at least 0, got " + queue);
            if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be in 0..65535, got " + port);
            // A limit below one byte would answer every request 413 while looking like a working server.
            if (maxBodyBytes < 1) throw new IllegalArgumentException("--max-body must be at least 1 byte, got " + maxBodyBytes);
        }
    }

    private final HttpServer http;
    private final ThreadPoolExecutor executor;
    private final SlotPool slots;
    private final Completions completions;
    private final String modelId;
    private final byte[] apiKey;
    private final int maxBodyBytes;
    private final AtomicLong rejected = new AtomicLong();

    private OpenAIServer(Model model, ChatFormat format, String modelId, Settings s) throws IOException {
        this.modelId = modelId;
        this.apiKey = s.apiKey() == null ? null : s.apiKey().getBytes(StandardCharsets.UTF_8);
        this.maxBodyBytes = s.maxBodyBytes();
        this.slots = new SlotPool(model.llama, s.parallel(), s.queue(), s.contextSize(), s.batchSize());
        this.completions = new Completions(model, format, slots, new TakingTurns(model.llama), modelId);
        // Enough threads for every admitted request plus a few for quick answers (health, errors, 503s);
        // past the bounded queue the accepting thread answers itself rather than drop a connection.
        int threads = s.parallel() + s.queue() + 4;
        AtomicInteger n = new AtomicInteger();
        this.executor = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(256),
                r -> Thread.ofPlatform().daemon().name("vecllama-http-" + n.incrementAndGet()).unstarted(r),
                new ThreadPoolExecutor.CallerRunsPolicy());
        this.http = HttpServer.create(new InetSocketAddress(s.host(), s.port()), 128);
        http.setExecutor(executor);
        http.createContext("/", this::handle);
        http.start();
    }

    /** Starts serving {@code model} at once; {@link #close()} stops. */
    public static OpenAIServer start(Model model, ChatFormat format, String modelId, Settings settings) throws IOException {
        return new OpenAIServer(model, format, modelId, settings);
    }

    public int port() {
        return http.getAddress().getPort();
    }

    @Override
    public void close() {
        http.stop(0);
        executor.shutdownNow();
    }

    private void handle(HttpExchange ex) {
        try {
            route(ex);
        } catch (ApiError e) {
            if (e.status == 503) rejected.incrementAndGet();
            respondWithError(ex, e);
        } catch (IOException e) {
            // The client went away; there is no one to answer.
        } catch (RuntimeException e) {
            String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
            respondWithError(ex, new ApiError(500, "server_error", null, null, m));
        } finally {
            ex.close();
        }
    }

    private void route(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        if (!path.equals("/health")) checkKey(ex);
        switch (path) {
            case "/health" -> {
                method(ex, "GET");
                sendJson(ex, 200, health());
            }
            case "/v1/models" -> {
                method(ex, "GET");
                ObjectNode list = JSON.createObjectNode().put("object", "list");
                list.putArray("data").addObject().put("id", modelId).put("object", "model").put("created", 0)
                        .put("owned_by", "vecllama");
                sendJson(ex, 200, list);
            }
            case "/v1/chat/completions", "/v1/completions" -> {
                method(ex, "POST");
                completions.handle(ex, CompletionRequest.parse(body(ex), path.equals("/v1/chat/completions"), modelId));
            }
            default -> throw new ApiError(404, "invalid_request_error", "not_found", null, "no such endpoint: " + path);
        }
    }

    private static void respondWithError(HttpExchange ex, ApiError e) {
        if (ex.getResponseCode() != -1) return; // an answer was under way; the connection just ends
        try {
            if (e.status == 401) ex.getResponseHeaders().set("WWW-Authenticate", "Bearer");
            sendJson(ex, e.status, e.toJson());
        } catch (IOException ignored) {
            // The client went away.
        }
    }

    private ObjectNode health() {
        return JSON.createObjectNode().put("status", "ok")
                .put("slots_idle", slots.idle())
                .put("slots_processing", slots.processing())
                .put("requests_waiting", slots.waiting())
                .put("requests_served", completions.served.get())
                .put("requests_disconnected", completions.disconnected.get())
                .put("requests_rejected", rejected.get());
    }

    /** The API key, compared in constant time so its bytes cannot be guessed from response times. */
    private void checkKey(HttpExchange ex) {
        if (apiKey == null) return;
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        byte[] given = auth != null && auth.startsWith("Bearer ")
                ? auth.substring("Bearer ".length()).strip().getBytes(StandardCharsets.UTF_8) : new byte[0];
        if (!MessageDigest.isEqual(apiKey, given)) {
            throw new ApiError(401, "invalid_request_error", "invalid_api_key", null,
                    "missing or wrong API key (send Authorization: Bearer KEY)");
        }
    }

    private static void method(HttpExchange ex, String allowed) {
        if (!ex.getRequestMethod().equals(allowed)) {
            // HTTP names the allowed method in a header; the error's param is for request fields, and there is none.
            ex.getResponseHeaders().set("Allow", allowed);
            throw new ApiError(405, "invalid_request_error", "method_not_allowed", null,
                    ex.getRequestMethod() + " is not allowed here; use " + allowed);
        }
    }

    /** The request body as JSON, refused past the size limit without reading further. */
    private JsonNode body(HttpExchange ex) throws IOException {
        String length = ex.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            long n;
            try {
                n = Long.parseLong(length.strip());
            } catch (NumberFormatException e) {
                throw ApiError.invalid(null, "bad Content-Length");
            }
            if (n > maxBodyBytes) throw tooLarge();
        }
        byte[] bytes;
        try (InputStream in = ex.getRequestBody()) {
            bytes = in.readNBytes(maxBodyBytes + 1);
        }
        if (bytes.length > maxBodyBytes) throw tooLarge();
        try {
            return JSON.readTree(bytes);
        } catch (JacksonException e) {
            throw new ApiError(400, "invalid_request_error", "invalid_json", null,
                    "the body is not valid JSON: " + e.getOriginalMessage().lines().findFirst().orElse(""));
        }
    }

    private ApiError tooLarge() {
        return new ApiError(413, "invalid_request_error", "request_too_large", null,
                "the body is larger than the limit of " + maxBodyBytes + " bytes");
    }

    static void sendJson(HttpExchange ex, int status, ObjectNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }
}
