package dev.vecllama.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jinjava.javax.el.CompositeELResolver;

/**
 * A chat template as Hugging Face writes them (Jinja, {@code tokenizer.chat_template} in GGUF files),
 * rendered with Jinjava under the same settings as transformers' {@code apply_chat_template}: blocks
 * trimmed ({@code trim_blocks}, {@code lstrip_blocks}), the variables {@code messages},
 * {@code add_generation_prompt}, {@code bos_token}, {@code eos_token}, and the helpers
 * {@code raise_exception}, {@code strftime_now} and Python's string methods.
 */
public final class ChatTemplate {
    /** The families whose templates ship with vecllama, for {@code --chat-template NAME}. */
    public static final List<String> BUILT_IN =
            List.of("llama2", "llama3", "mistral", "chatml", "qwen2", "zephyr", "phi3", "gemma", "smollm");

    static {
        // Jinjava logs through SLF4J; without a binding SLF4J would print a warning on every run.
        System.setProperty("slf4j.internal.verbosity", "ERROR");
    }

    private static final Jinjava JINJAVA = newJinjava();
    private static final String END_PROBE = "vecllama-end-of-turn-probe";

    private final String name;
    private final String source;
    private final String bosToken;
    private final String eosToken;
    private final String endMarker;

    /**
     * @param name     what to call the template in messages (a family, a file, "the model's")
     * @param bosToken the text of the model's BOS token ("" if none), as templates print it
     */
    public ChatTemplate(String name, String source, String bosToken, String eosToken) {
        this.name = name;
        this.source = pythonNotPrecedence(source);
        this.bosToken = bosToken;
        this.eosToken = eosToken;
        this.endMarker = probeEndMarker();
    }

    /** A template that ships with vecllama, one of {@link #BUILT_IN}. */
    public static ChatTemplate builtIn(String family, String bosToken, String eosToken) {
        if (!BUILT_IN.contains(family)) {
            throw new IllegalArgumentException("no built-in chat template '" + family + "'; built in: " + String.join(", ", BUILT_IN));
        }
        try (InputStream in = ChatTemplate.class.getResourceAsStream("templates/" + family + ".jinja")) {
            if (in == null) throw new IllegalStateException("built-in chat template " + family + " is missing from the jar");
            return new ChatTemplate(family, new String(in.readAllBytes(), StandardCharsets.UTF_8), bosToken, eosToken);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String name() {
        return name;
    }

    public String bosToken() {
        return bosToken;
    }

    /**
     * The text the template puts right after an assistant's answer, such as {@code <|im_end|>},
     * {@code <|eot_id|>} or {@code </s>}: a model trained on the template writes it when it is done.
     * Empty if the template ends answers with nothing.
     */
    public String endMarker() {
        return endMarker;
    }

    /**
     * Renders a conversation. A template that refuses a leading system message (Gemma's, for one) gets
     * it folded into the first user message instead, as the model cards recommend.
     *
     * @param addGenerationPrompt end with the start of an assistant turn, for the model to complete
     * @throws ChatTemplateException if the template fails or refuses the conversation
     */
    public String render(List<Message> messages, boolean addGenerationPrompt) {
        try {
            return renderAsIs(messages, addGenerationPrompt);
        } catch (Refused refused) {
            List<Message> folded = foldSystemIntoFirstUser(messages);
            if (folded == null) throw refusal(refused);
            try {
                return renderAsIs(folded, addGenerationPrompt);
            } catch (Refused again) {
                throw refusal(again);
            }
        }
    }

    private ChatTemplateException refusal(Refused r) {
        return new ChatTemplateException("the " + name + " chat template refuses the conversation: " + r.getMessage());
    }

    private static List<Message> foldSystemIntoFirstUser(List<Message> messages) {
        if (messages.size() < 2 || !messages.get(0).role().equals(Message.SYSTEM)
                || !messages.get(1).role().equals(Message.USER)) {
            return null;
        }
        List<Message> folded = new ArrayList<>(messages.subList(1, messages.size()));
        folded.set(0, Message.user(messages.get(0).content() + "\n\n" + messages.get(1).content()));
        return folded;
    }

    private String renderAsIs(List<Message> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> list = new ArrayList<>(messages.size());
        for (Message m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            list.add(map);
        }
        Map<String, Object> context = new HashMap<>();
        context.put("messages", list);
        context.put("add_generation_prompt", addGenerationPrompt);
        context.put("bos_token", bosToken);
        context.put("eos_token", eosToken);
        RenderResult result = JINJAVA.renderForResult(source, context);
        for (TemplateError e : result.getErrors()) {
            if (e.getSeverity() != TemplateError.ErrorType.FATAL) continue;
            for (Throwable t = e.getException(); t != null; t = t.getCause()) {
                if (t instanceof Refused r) throw r;
            }
            throw new ChatTemplateException("chat template " + name + ": " + e.getMessage()
                    + (e.getLineno() > 0 ? " (line " + e.getLineno() + ")" : ""));
        }
        return result.getOutput();
    }

    /** Renders one exchange and reads what follows the answer, up to the first whitespace. */
    private String probeEndMarker() {
        String rendered;
        try {
            rendered = renderAsIs(List.of(Message.user("hi"), Message.assistant(END_PROBE)), false);
        } catch (ChatTemplateException | Refused e) {
            return "";
        }
        int at = rendered.indexOf(END_PROBE);
        if (at < 0) return "";
        String after = rendered.substring(at + END_PROBE.length()).strip();
        int space = 0;
        while (space < after.length() && !Character.isWhitespace(after.charAt(space))) space++;
        return after.substring(0, space);
    }

    // A Python operand: a literal or a name with attribute and subscript accesses, not a keyword.
    private static final String OPERAND = "('[^']*'|\"[^\"]*\"|(?!(?:in|is|not)\\b)[A-Za-z_]\\w*(?:\\.[A-Za-z_]\\w*|\\[[^\\[\\]]*\\])*)";
    private static final Pattern NOT_IN = Pattern.compile("\\bnot\\s+" + OPERAND + "\\s+in\\b");
    private static final Pattern NOT_EQUALS = Pattern.compile("\\bnot\\s+" + OPERAND + "\\s*(==|!=)");
    private static final Pattern TAG = Pattern.compile("\\{\\{.*?}}|\\{%.*?%}", Pattern.DOTALL);

    /**
     * In Jinja {@code not} binds more loosely than comparisons ({@code not a in b} is {@code not (a in b)}),
     * in Jinjava more tightly; rewrites the two forms templates use, {@code not a in b} and
     * {@code not a == b}, into {@code a not in b} and {@code a != b}, inside tags only.
     */
    static String pythonNotPrecedence(String template) {
        Matcher tags = TAG.matcher(template);
        StringBuilder out = new StringBuilder(template.length());
        while (tags.find()) {
            String tag = NOT_IN.matcher(tags.group()).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + " not in"));
            tag = NOT_EQUALS.matcher(tag).replaceAll(m ->
                    Matcher.quoteReplacement(m.group(1) + (m.group(2).equals("==") ? " !=" : " ==")));
            tags.appendReplacement(out, Matcher.quoteReplacement(tag));
        }
        tags.appendTail(out);
        return out.toString();
    }

    /** What raise_exception throws: the template's own message, passed through Jinjava's wrapping. */
    private static final class Refused extends RuntimeException {
        Refused(String message) {
            super(message);
        }
    }

    public static String raiseException(String message) {
        throw new Refused(message);
    }

    /** Python's {@code strftime} on the current local time, for the directives templates use. */
    public static String strftimeNow(String format) {
        ZonedDateTime now = ZonedDateTime.now();
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                b.append(c);
                continue;
            }
            char d = format.charAt(++i);
            String pattern = switch (d) {
                case 'd' -> "dd";
                case 'e' -> "d";
                case 'm' -> "MM";
                case 'b' -> "MMM";
                case 'B' -> "MMMM";
                case 'y' -> "yy";
                case 'Y' -> "yyyy";
                case 'a' -> "EEE";
                case 'A' -> "EEEE";
                case 'H' -> "HH";
                case 'I' -> "hh";
                case 'M' -> "mm";
                case 'S' -> "ss";
                case 'p' -> "a";
                default -> null;
            };
            if (pattern == null) b.append(d == '%' ? "%" : "%" + d);
            else b.append(now.format(DateTimeFormatter.ofPattern(pattern, Locale.ENGLISH)));
        }
        return b.toString();
    }

    private static Jinjava newJinjava() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStrings());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        Jinjava jinjava = new Jinjava(JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                // {{- and -}} strip whitespace around expressions too, as in Jinja
                .withLegacyOverrides(LegacyOverrides.newBuilder().withUseTrimmingForNotesAndExpressions(true).build())
                .withElResolver(resolver)
                .withMaxOutputSize(16 << 20)
                .build());
        jinjava.getGlobalContext().registerFunction(
                new ELFunctionDefinition("", "raise_exception", ChatTemplate.class, "raiseException", String.class));
        jinjava.getGlobalContext().registerFunction(
                new ELFunctionDefinition("", "strftime_now", ChatTemplate.class, "strftimeNow", String.class));
        return jinjava;
    }
}
