package dev.vecllama.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.vecllama.chat.CachedSequence;
import dev.vecllama.chat.ChatFormat;
import dev.vecllama.chat.ChatTemplateException;
import dev.vecllama.chat.TextStream;
import dev.vecllama.model.Generator;
import dev.vecllama.model.Model;
import dev.vecllama.sampling.Sampler;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntPredicate;

/** Runs a completion request on a slot and writes the answer: one JSON object, or Server-Sent Events as tokens come. */
final class Completions {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Model model;
    private final ChatFormat format;
    private final SlotPool slots;
    private final Generator.Evaluator evaluator;
    private final String modelId;
    final AtomicLong served = new AtomicLong(), disconnected = new AtomicLong();

    Completions(Model model, ChatFormat format, SlotPool slots, Generator.Evaluator evaluator, String modelId) {
        this.model = model;
        this.format = format;
        this.slots = slots;
        this.evaluator = evaluator;
        this.modelId = modelId;
    }

    void handle(HttpExchange exchange, CompletionRequest req) throws IOException {
        int[] prompt = tokens(req);
        CachedSequence slot = slots.acquire();
        try {
            Answer answer = new Answer(exchange, req);
            Sampler sampler = new Sampler(req.sampling(), model.config.vocabSize());
            List<String> stops = new ArrayList<>(req.stop());
            IntPredicate end = model.tokenizer::isEndOfGeneration;
            if (req.chat()) {
                stops.addAll(format.stopStrings());
                end = format::isEnd;
            }
            TextStream text = new TextStream(model.tokenizer, false, stops, answer::delta);
            answer.begin();
            Generator.Stats st = slot.generate(evaluator, prompt, req.maxTokens(), sampler, end,
                    token -> text.accept(token) && !answer.clientGone);
            text.finish();
            String finish = st.endOfGeneration() || text.stopped() ? "stop" : "length";
            answer.end(text.text(), finish, st.promptTokens(), st.generatedTokens());
            (answer.clientGone ? disconnected : served).incrementAndGet();
        } finally {
            slots.release(slot);
        }
    }

    private int[] tokens(CompletionRequest req) {
        int[] prompt;
        if (req.chat()) {
            try {
                prompt = format.prompt(req.messages());
            } catch (ChatTemplateException e) {
                throw ApiError.invalid("messages", e.getMessage());
            }
        } else {
            prompt = model.tokenizer.encode(req.prompt());
        }
        if (prompt.length == 0) throw ApiError.invalid("prompt", "the prompt is empty");
        int context = slots.contextSize();
        if (prompt.length >= context) {
            throw new ApiError(400, "invalid_request_error", "context_length_exceeded", req.chat() ? "messages" : "prompt",
                    "the prompt is " + prompt.length + " tokens but the context holds " + context);
        }
        return prompt;
    }

    /** One response: its id and format (chat or text, streamed or whole) and the client's connection. */
    private final class Answer {
        private final HttpExchange exchange;
        private final CompletionRequest req;
        private final String id;
        private final long created = System.currentTimeMillis() / 1000;
        private OutputStream out;
        volatile boolean clientGone;

        Answer(HttpExchange exchange, CompletionRequest req) {
            this.exchange = exchange;
            this.req = req;
            this.id = (req.chat() ? "chatcmpl-" : "cmpl-") + Long.toHexString(ThreadLocalRandom.current().nextLong());
        }

        void begin() throws IOException {
            if (!req.stream()) return;
            exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
            exchange.getResponseHeaders().set("Cache-Control", "no-cache");
            exchange.sendResponseHeaders(200, 0);
            out = exchange.getResponseBody();
            if (req.chat()) {
                ObjectNode delta = JSON.createObjectNode().put("role", "assistant").put("content", "");
                event(chunk(delta, null));
            }
        }

        void delta(String piece) {
            if (!req.stream() || clientGone) return;
            event(req.chat() ? chunk(JSON.createObjectNode().put("content", piece), null) : chunk(piece, null));
        }

        void end(String text, String finish, int promptTokens, int completionTokens) throws IOException {
            ObjectNode usage = JSON.createObjectNode()
                    .put("prompt_tokens", promptTokens)
                    .put("completion_tokens", completionTokens)
                    .put("total_tokens", promptTokens + completionTokens);
            if (!req.stream()) {
                ObjectNode body = head(req.chat() ? "chat.completion" : "text_completion");
                ObjectNode choice = body.putArray("choices").addObject().put("index", 0);
                if (req.chat()) choice.putObject("message").put("role", "assistant").put("content", text);
                else choice.put("text", text).putNull("logprobs");
                choice.put("finish_reason", finish);
                body.set("usage", usage);
                OpenAIServer.sendJson(exchange, 200, body);
                return;
            }
            event(req.chat() ? chunk(JSON.createObjectNode(), finish) : chunk("", finish));
            if (req.includeUsage()) {
                ObjectNode last = head(req.chat() ? "chat.completion.chunk" : "text_completion");
                last.putArray("choices");
                last.set("usage", usage);
                event(last);
            }
            write("data: [DONE]\n\n");
        }

        private ObjectNode head(String object) {
            ObjectNode o = JSON.createObjectNode();
            o.put("id", id).put("object", object).put("created", created).put("model", modelId);
            return o;
        }

        private ObjectNode chunk(ObjectNode delta, String finish) {
            ObjectNode o = head("chat.completion.chunk");
            ObjectNode choice = o.putArray("choices").addObject().put("index", 0);
            choice.set("delta", delta);
            choice.put("finish_reason", finish);
            return o;
        }

        private ObjectNode chunk(String text, String finish) {
            ObjectNode o = head("text_completion");
            ArrayNode choices = o.putArray("choices");
            choices.addObject().put("index", 0).put("text", text).putNull("logprobs").put("finish_reason", finish);
            return o;
        }

        private void event(ObjectNode data) {
            write("data: " + data + "\n\n");
        }

        /** A failed write means the client went away: generation stops and the slot is freed. */
        private void write(String s) {
            if (clientGone) return;
            try {
                out.write(s.getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (IOException e) {
                clientGone = true;
            }
        }
    }
}
