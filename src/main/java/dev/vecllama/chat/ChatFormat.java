package dev.vecllama.chat;

import dev.vecllama.gguf.GGUFFile;
import dev.vecllama.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * How to talk to one model: the chat template that turns a conversation into its prompt, and what
 * ends an answer (the vocabulary's end-of-generation tokens and the template's end marker). A model
 * without a template does plain completion: the conversation's texts are joined and continued.
 */
public final class ChatFormat {
    static final String KEY_TEMPLATE = "tokenizer.chat_template";
    private static final String PLAIN = "{% for message in messages %}{{ message['content'] }}{% endfor %}";

    private final Tokenizer tokenizer;
    private final ChatTemplate template;
    private final boolean plain;
    /** The end marker when it is one token, else -1 and it is watched for as text. */
    private final int endToken;
    private final List<String> stopStrings;

    private ChatFormat(Tokenizer tokenizer, ChatTemplate template, boolean plain) {
        this.tokenizer = tokenizer;
        this.template = template;
        this.plain = plain;
        String marker = template.endMarker();
        int[] markerTokens = marker.isEmpty() ? new int[0] : tokenizer.encode(marker, false, true);
        this.endToken = markerTokens.length == 1 ? markerTokens[0] : -1;
        this.stopStrings = marker.isEmpty() || endToken >= 0 ? List.of() : List.of(marker);
    }

    /**
     * The format for a model file.
     *
     * @param override null for the model's own template; else a built-in family name
     *                 ({@link ChatTemplate#BUILT_IN}) or the path of a Jinja file
     */
    public static ChatFormat of(GGUFFile file, Tokenizer tokenizer, String override) {
        String bos = tokenizer.bos() >= 0 ? tokenizer.tokenText(tokenizer.bos()) : "";
        String eos = tokenizer.eos() >= 0 ? tokenizer.tokenText(tokenizer.eos()) : "";
        if (override == null) {
            if (!file.has(KEY_TEMPLATE)) return new ChatFormat(tokenizer, new ChatTemplate("plain", PLAIN, bos, eos), true);
            return new ChatFormat(tokenizer, new ChatTemplate("model's own", file.getString(KEY_TEMPLATE), bos, eos), false);
        }
        if (ChatTemplate.BUILT_IN.contains(override)) {
            return new ChatFormat(tokenizer, ChatTemplate.builtIn(override, bos, eos), false);
        }
        Path path = Path.of(override);
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException("--chat-template '" + override + "' is neither a file nor a built-in template ("
                    + String.join(", ", ChatTemplate.BUILT_IN) + ")");
        }
        try {
            return new ChatFormat(tokenizer, new ChatTemplate(path.getFileName().toString(), Files.readString(path), bos, eos), false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read chat template " + path + ": " + e.getMessage(), e);
        }
    }

    /** True when the model has no chat template: inputs are continued as plain text. */
    public boolean plain() {
        return plain;
    }

    /** One line saying which template is in use. */
    public String describe() {
        return plain ? "the model has no chat template: plain completion, each input continues the text so far"
                + " (--chat-template NAME|FILE to chat; built in: " + String.join(", ", ChatTemplate.BUILT_IN) + ")"
                : "chat template: " + template.name() + (template.endMarker().isEmpty() ? "" : ", answers end at " + template.endMarker());
    }

    /** The prompt for the model's next answer: the rendered conversation, tokenized with control tokens parsed. */
    public int[] prompt(List<Message> conversation) {
        String text = template.render(conversation, true);
        String bos = template.bosToken();
        // A template that writes BOS itself must not get a second one from the tokenizer.
        boolean addBos = tokenizer.addBosByDefault() && (bos.isEmpty() || !text.startsWith(bos));
        return tokenizer.encode(text, addBos, true);
    }

    /** Whether {@code token} ends an answer. */
    public boolean isEnd(int token) {
        return token == endToken || tokenizer.isEndOfGeneration(token);
    }

    /** Texts that end an answer when the model spells them out (the template's marker, if not one token). */
    public List<String> stopStrings() {
        return stopStrings;
    }
}
