package dev.vecllama.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vecllama.chat.ChatFormat;
import dev.vecllama.chat.TestModel;
import dev.vecllama.model.Model;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The server on a free loopback port, driven with the JDK's HTTP client. */
class OpenAIServerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    static final String ID = "vl-tiny-f-Q8_0";
    static Model model;
    static OpenAIServer server;

    @BeforeAll
    static void start() throws Exception {
        model = TestModel.load();
        server = start(2, 4, 256, null);
    }

    @AfterAll
    static void stop() {
        server.close();
        model.close();
    }

    static OpenAIServer start(int parallel, int queue, int ctx, String key) throws Exception {
        return OpenAIServer.start(model, ChatFormat.of(model.file, model.tokenizer, "chatml"), ID,
                new OpenAIServer.Settings("127.0.0.1", 0, parallel, queue, ctx, 64, key, 4096));
    }

    record Answer(int status, JsonNode json, String raw, String allow) {}

    static Answer send(OpenAIServer s, String method, String path, String body, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
                .timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (key != null) b.header("Authorization", "Bearer " + key);
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode json = r.headers().firstValue("Content-Type").orElse("").startsWith("application/json") ? JSON.readTree(r.body()) : null;
        return new Answer(r.statusCode(), json, r.body(), r.headers().firstValue("Allow").orElse(null));
    }

    static Answer post(String path, String body) throws Exception {
        return send(server, "POST", path, body, null);
    }

    static List<JsonNode> events(String sse) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        List<String> data = sse.lines().filter(l -> !l.isEmpty()).toList();
        for (String line : data) assertTrue(line.startsWith("data: "), line);
        assertEquals("data: [DONE]", data.getLast());
        for (String line : data.subList(0, data.size() - 1)) out.add(JSON.readTree(line.substring(6)));
        return out;
    }

    @Test
    void healthAndModels() throws Exception {
        Answer h = send(server, "GET", "/health", null, null);
        assertEquals(200, h.status);
        assertEquals("ok", h.json.path("status").asText());
        Answer m = send(server, "GET", "/v1/models", null, null);
        assertEquals(200, m.status);
        assertEquals(ID, m.json.path("data").path(0).path("id").asText());
    }

    @Test
    void chatCompletionWholeAndStreamedAgree() throws Exception {
        String req = "{\"model\":\"" + ID + "\",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
                + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What is a dict?\"}]}],"
                + "\"max_tokens\":12,\"temperature\":0";
        Answer whole = post("/v1/chat/completions", req + "}");
        assertEquals(200, whole.status, whole.raw);
        JsonNode choice = whole.json.path("choices").path(0);
        assertEquals("chat.completion", whole.json.path("object").asText());
        assertEquals("assistant", choice.path("message").path("role").asText());
        String content = choice.path("message").path("content").asText();
        assertFalse(content.isEmpty());
        JsonNode usage = whole.json.path("usage");
        assertEquals(12, usage.path("completion_tokens").asInt());
        assertEquals("length", choice.path("finish_reason").asText());
        assertEquals(usage.path("prompt_tokens").asInt() + 12, usage.path("total_tokens").asInt());

        // The same request again (now from a slot's cache) and streamed give the same text.
        assertEquals(content, post("/v1/chat/completions", req + "}").json.path("choices").path(0).path("message").path("content").asText());
        Answer streamed = post("/v1/chat/completions", req + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
        assertEquals(200, streamed.status);
        List<JsonNode> events = events(streamed.raw);
        assertEquals("assistant", events.getFirst().path("choices").path(0).path("delta").path("role").asText());
        StringBuilder text = new StringBuilder();
        for (JsonNode e : events) {
            assertEquals("chat.completion.chunk", e.path("object").asText());
            text.append(e.path("choices").path(0).path("delta").path("content").asText(""));
        }
        assertEquals(content, text.toString());
        assertEquals("length", events.get(events.size() - 2).path("choices").path(0).path("finish_reason").asText());
        assertEquals(12, events.getLast().path("usage").path("completion_tokens").asInt());
    }

    @Test
    void textCompletionStopsAtAStopString() throws Exception {
        Answer full = post("/v1/completions", "{\"prompt\":\"The list type\",\"max_tokens\":12,\"temperature\":0}");
        assertEquals(200, full.status, full.raw);
        String text = full.json.path("choices").path(0).path("text").asText();
        String[] words = text.strip().split("\\s+");
        assertTrue(words.length >= 3, text);
        String stop = words[2];
        Answer cut = post("/v1/completions", "{\"prompt\":[\"The list type\"],\"max_tokens\":12,\"temperature\":0,\"stop\":[\""
                + stop + "\"],\"stream\":true}");
        StringBuilder streamed = new StringBuilder();
        String finish = null;
        for (JsonNode e : events(cut.raw)) {
            assertEquals("text_completion", e.path("object").asText());
            streamed.append(e.path("choices").path(0).path("text").asText());
            if (!e.path("choices").path(0).path("finish_reason").isNull()) finish = e.path("choices").path(0).path("finish_reason").asText();
        }
        assertEquals(text.substring(0, text.indexOf(stop)), streamed.toString());
        assertEquals("stop", finish);
    }

    static Stream<Arguments> badRequests() {
        return Stream.of(
                Arguments.of("POST", "/v1/chat/completions", "{\"messages\": [", 400, "invalid_json"),
                Arguments.of("POST", "/v1/chat/completions", "[1, 2]", 400, null),
                Arguments.of("POST", "/v1/chat/completions", "{}", 400, null),
                Arguments.of("POST", "/v1/chat/completions", "{\"messages\": []}", 400, "invalid_value"),
                Arguments.of("POST", "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\"}]}", 400, "invalid_value"),
                Arguments.of("POST", "/v1/chat/completions", "{\"messages\": [{\"role\": \"wizard\", \"content\": \"x\"}]}", 400, "invalid_value"),
                Arguments.of("POST", "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"temperature\": \"hot\"}", 400, "invalid_value"),
                Arguments.of("POST", "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"top_p\": 7}", 400, null),
                Arguments.of("POST", "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"n\": 2}", 400, "invalid_value"),
                Arguments.of("POST", "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": 0}", 400, "invalid_value"),
                Arguments.of("POST", "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"stream\": \"yes\"}", 400, "invalid_value"),
                Arguments.of("POST", "/v1/chat/completions", "{\"model\": \"gpt-4\", \"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}", 404, "model_not_found"),
                Arguments.of("POST", "/v1/completions", "{\"prompt\": 42}", 400, "invalid_value"),
                Arguments.of("POST", "/v1/completions", "{\"prompt\": \"" + "lists and tuples ".repeat(120) + "\"}", 400, "context_length_exceeded"),
                Arguments.of("POST", "/v1/completions", "{\"prompt\": \"" + "x".repeat(5000) + "\"}", 413, "request_too_large"),
                Arguments.of("GET", "/v1/completions", null, 405, "method_not_allowed"),
                Arguments.of("GET", "/v2/anything", null, 404, "not_found"));
    }

    @ParameterizedTest(name = "{0} {1} {2} -> {3}")
    @MethodSource("badRequests")
    void badInputIsAnOpenAIErrorAndTheServerGoesOn(String method, String path, String body, int status, String code) throws Exception {
        Answer a = send(server, method, path, body, null);
        assertEquals(status, a.status, a.raw);
        JsonNode e = a.json.path("error");
        assertTrue(e.path("message").isTextual() && !e.path("message").asText().isEmpty(), a.raw);
        assertEquals(1, e.path("message").asText().lines().count());
        assertEquals("invalid_request_error", e.path("type").asText());
        assertTrue(e.has("code"), a.raw);
        if (code != null) assertEquals(code, e.path("code").asText(), a.raw);
        if (status == 405) {
            assertEquals("POST", a.allow, "the Allow header");
            assertTrue(e.path("param").isNull(), a.raw);
        }
        assertEquals(200, send(server, "GET", "/health", null, null).status);
    }

    @Test
    void anApiKeyIsRequiredWhenSet() throws Exception {
        try (OpenAIServer locked = start(1, 1, 128, "s3cret")) {
            assertEquals(401, send(locked, "GET", "/v1/models", null, null).status);
            Answer wrong = send(locked, "GET", "/v1/models", null, "s3cret!");
            assertEquals(401, wrong.status);
            assertEquals("invalid_api_key", wrong.json.path("error").path("code").asText());
            assertEquals(200, send(locked, "GET", "/v1/models", null, "s3cret").status);
            assertEquals(200, send(locked, "GET", "/health", null, null).status);
        }
    }

    /** A long greedy continuation: this model writes hundreds of tokens after this prompt without ending. */
    static final String LONG = "{\"prompt\":\"The list type\",\"max_tokens\":900,\"temperature\":0,\"stream\":true}";

    @Test
    void aFullQueueIsTurnedAwayAndADisconnectedClientFreesItsSlot() throws Exception {
        try (OpenAIServer one = start(1, 0, 1024, null)) {
            HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + one.port() + "/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString(LONG)).build();
            HttpResponse<InputStream> r = HTTP.send(req, HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, r.statusCode());
            BufferedReader lines = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
            for (int events = 0; events < 3; ) if (lines.readLine().startsWith("data: ")) events++;

            // The only slot is busy and there is no queue.
            Answer busy = send(one, "POST", "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":1}", null);
            assertEquals(503, busy.status, busy.raw);
            assertEquals("server_busy", busy.json.path("error").path("code").asText());

            r.body().close(); // the client goes away mid-stream
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            JsonNode health;
            do {
                Thread.sleep(20);
                health = send(one, "GET", "/health", null, null).json;
            } while (health.path("slots_idle").asInt() != 1 && System.nanoTime() < deadline);
            assertEquals(1, health.path("slots_idle").asInt(), health.toString());
            assertEquals(1, health.path("requests_disconnected").asInt(), health.toString());
            assertEquals(1, health.path("requests_rejected").asInt(), health.toString());
            assertEquals(200, send(one, "POST", "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":1}", null).status);
        }
    }

    @Test
    void eightClientsTimesTwentyRequestsAllWellFormed() throws Exception {
        try (OpenAIServer loaded = start(2, 8, 256, null)) {
            LoadTest.Report r = LoadTest.run(URI.create("http://127.0.0.1:" + loaded.port()), null, 8, 20, 8,
                    Duration.ofSeconds(60), Duration.ofSeconds(100));
            assertEquals(List.of(), r.failures());
            assertEquals(160, r.requests());
            assertTrue(r.completionTokens() > 0);
            JsonNode health = send(loaded, "GET", "/health", null, null).json;
            assertEquals("ok", health.path("status").asText());
            assertEquals(160, health.path("requests_served").asInt());
            assertEquals(2, health.path("slots_idle").asInt());
        }
    }
}
