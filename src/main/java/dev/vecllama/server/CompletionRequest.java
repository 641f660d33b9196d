package dev.vecllama.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vecllama.chat.Message;
import dev.vecllama.sampling.SamplerSettings;
import java.util.ArrayList;
import java.util.List;

/**
 * A checked request to {@code /v1/chat/completions} ({@code messages}) or {@code /v1/completions}
 * ({@code prompt}), with OpenAI's sampling fields and llama.cpp's {@code top_k}, {@code min_p},
 * {@code repeat_penalty}. Anything malformed is an {@link ApiError} naming the field.
 *
 * @param maxTokens negative: until the model ends or the context is full
 */
record CompletionRequest(List<Message> messages, String prompt, int maxTokens, boolean stream, boolean includeUsage,
                         List<String> stop, SamplerSettings sampling) {
    /** OpenAI's default length of a text completion. */
    static final int COMPLETION_DEFAULT_MAX_TOKENS = 16;
    private static final int MAX_STOP_STRINGS = 16;

    boolean chat() {
        return messages != null;
    }

    static CompletionRequest parse(JsonNode body, boolean chat, String modelId) {
        if (body == null || !body.isObject()) throw ApiError.invalid(null, "the request body must be a JSON object");
        String model = string(body, "model");
        if (model != null && !model.equals(modelId)) {
            throw new ApiError(404, "invalid_request_error", "model_not_found", "model",
                    "the model '" + model + "' does not exist; this server runs '" + modelId + "'");
        }
        Long n = integer(body, "n");
        if (n != null && n != 1) throw ApiError.invalid("n", "only n = 1 is supported");
        for (String unsupported : List.of("presence_penalty", "frequency_penalty")) {
            Double v = number(body, unsupported);
            if (v != null && v != 0) throw ApiError.invalid(unsupported, unsupported + " is not supported (use repeat_penalty)");
        }
        Boolean logprobs = bool(body, "logprobs");
        if (Boolean.TRUE.equals(logprobs)) throw ApiError.invalid("logprobs", "logprobs are not supported");

        Long maxTokens = integer(body, "max_completion_tokens");
        String maxName = "max_completion_tokens";
        if (maxTokens == null) {
            maxTokens = integer(body, "max_tokens");
            maxName = "max_tokens";
        }
        if (maxTokens != null && (maxTokens < 1 || maxTokens > Integer.MAX_VALUE)) {
            throw ApiError.invalid(maxName, maxName + " must be a positive integer");
        }
        int max = maxTokens != null ? maxTokens.intValue() : chat ? -1 : COMPLETION_DEFAULT_MAX_TOKENS;

        boolean stream = Boolean.TRUE.equals(bool(body, "stream"));
        JsonNode options = body.get("stream_options");
        boolean includeUsage = false;
        if (options != null && !options.isNull()) {
            if (!options.isObject()) throw ApiError.invalid("stream_options", "stream_options must be an object");
            includeUsage = Boolean.TRUE.equals(bool(options, "include_usage"));
        }
        return new CompletionRequest(chat ? messages(body) : null, chat ? null : prompt(body), max, stream, includeUsage,
                stop(body), sampling(body));
    }

    private static SamplerSettings sampling(JsonNode body) {
        SamplerSettings.Builder b = SamplerSettings.builder();
        Double temperature = number(body, "temperature"), topP = number(body, "top_p"), minP = number(body, "min_p"),
                repeatPenalty = number(body, "repeat_penalty");
        Long topK = integer(body, "top_k"), seed = integer(body, "seed");
        if (temperature != null) b.temperature(temperature.floatValue());
        if (topP != null) b.topP(topP.floatValue());
        if (minP != null) b.minP(minP.floatValue());
        if (repeatPenalty != null) b.repetitionPenalty(repeatPenalty.floatValue());
        if (topK != null) b.topK(Math.clamp(topK, Integer.MIN_VALUE, Integer.MAX_VALUE));
        if (seed != null) b.seed(seed);
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw ApiError.invalid(null, e.getMessage());
        }
    }

    private static List<Message> messages(JsonNode body) {
        JsonNode list = body.get("messages");
        if (list == null || list.isNull()) throw ApiError.invalid("messages", "messages is required");
        if (!list.isArray() || list.isEmpty()) throw ApiError.invalid("messages", "messages must be a non-empty array");
        List<Message> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode m = list.get(i);
            String where = "messages[" + i + "]";
            if (!m.isObject()) throw ApiError.invalid(where, where + " must be an object");
            String role = string(m, "role");
            if (role == null) throw ApiError.invalid(where + ".role", where + ".role is required");
            role = switch (role) {
                case "system", "developer" -> Message.SYSTEM;
                case "user" -> Message.USER;
                case "assistant" -> Message.ASSISTANT;
                default -> throw ApiError.invalid(where + ".role", where + ".role must be system, user or assistant, not '" + role + "'");
            };
            out.add(new Message(role, content(m.get("content"), where + ".content", role.equals(Message.ASSISTANT))));
        }
        return out;
    }

    /** A string, or an array of {@code {"type": "text", "text": ...}} parts; an assistant's may be null. */
    private static String content(JsonNode c, String where, boolean mayBeNull) {
        if (c == null || c.isNull()) {
            if (mayBeNull) return "";
            throw ApiError.invalid(where, where + " is required");
        }
        if (c.isTextual()) return c.asText();
        if (!c.isArray()) throw ApiError.invalid(where, where + " must be a string or an array of text parts");
        StringBuilder text = new StringBuilder();
        for (JsonNode part : c) {
            if (!part.isObject() || !"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                throw ApiError.invalid(where, where + ": only parts of type text are supported");
            }
            text.append(part.get("text").asText());
        }
        return text.toString();
    }

    private static String prompt(JsonNode body) {
        JsonNode p = body.get("prompt");
        if (p == null || p.isNull()) throw ApiError.invalid("prompt", "prompt is required");
        if (p.isTextual()) return p.asText();
        if (p.isArray() && p.size() == 1 && p.get(0).isTextual()) return p.get(0).asText();
        throw ApiError.invalid("prompt", "prompt must be a string (or an array of one string)");
    }

    private static List<String> stop(JsonNode body) {
        JsonNode s = body.get("stop");
        if (s == null || s.isNull()) return List.of();
        if (s.isTextual()) return List.of(s.asText());
        if (s.isArray() && s.size() <= MAX_STOP_STRINGS) {
            List<String> out = new ArrayList<>();
            for (JsonNode x : s) {
                if (!x.isTextual()) throw ApiError.invalid("stop", "stop must be a string or an array of strings");
                out.add(x.asText());
            }
            return out;
        }
        throw ApiError.invalid("stop", "stop must be a string or an array of at most " + MAX_STOP_STRINGS + " strings");
    }

    private static String string(JsonNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw ApiError.invalid(field, field + " must be a string");
        return v.asText();
    }

    private static Double number(JsonNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isNumber()) throw ApiError.invalid(field, field + " must be a number");
        return v.asDouble();
    }

    private static Long integer(JsonNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isIntegralNumber() || !v.canConvertToLong()) throw ApiError.invalid(field, field + " must be an integer");
        return v.asLong();
    }

    private static Boolean bool(JsonNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isBoolean()) throw ApiError.invalid(field, field + " must be true or false");
        return v.asBoolean();
    }
}
