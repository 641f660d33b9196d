package dev.vecllama.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Real chat templates of the common families rendered on one two-turn conversation, compared with the
 * exact text each family's documented format gives (test resources chat-templates/*.txt).
 */
class ChatTemplateTest {
    static final List<Message> WITH_SYSTEM = List.of(
            Message.system("You are a helpful assistant."),
            Message.user("Hello"),
            Message.assistant("Hi there!"),
            Message.user("What is 2+2?"));
    static final List<Message> NO_SYSTEM = WITH_SYSTEM.subList(1, WITH_SYSTEM.size());

    /** template (built-in family, or a test resource ending in .jinja), BOS and EOS texts, conversation, expected file. */
    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("llama2", "<s>", "</s>", WITH_SYSTEM, "llama2.txt"),
                Arguments.of("llama2", "<s>", "</s>", NO_SYSTEM, "llama2-no-system.txt"),
                Arguments.of("llama3", "<|begin_of_text|>", "<|eot_id|>", WITH_SYSTEM, "llama3.txt"),
                Arguments.of("mistral", "<s>", "</s>", WITH_SYSTEM, "mistral.txt"),
                Arguments.of("chatml", "", "<|im_end|>", WITH_SYSTEM, "chatml.txt"),
                Arguments.of("qwen2", "", "<|im_end|>", WITH_SYSTEM, "chatml.txt"),
                Arguments.of("qwen2", "", "<|im_end|>", NO_SYSTEM, "qwen2-no-system.txt"),
                Arguments.of("zephyr", "<s>", "</s>", WITH_SYSTEM, "zephyr.txt"),
                Arguments.of("phi3", "<s>", "<|endoftext|>", WITH_SYSTEM, "phi3.txt"),
                Arguments.of("gemma", "<bos>", "<eos>", WITH_SYSTEM, "gemma.txt"),
                Arguments.of("gemma", "<bos>", "<eos>", NO_SYSTEM, "gemma-no-system.txt"),
                Arguments.of("smollm", "<|im_start|>", "<|im_end|>", WITH_SYSTEM, "chatml.txt"),
                Arguments.of("smollm", "<|im_start|>", "<|im_end|>", NO_SYSTEM, "smollm-no-system.txt"),
                Arguments.of("mixtral-8x7b-instruct.jinja", "<s>", "</s>", WITH_SYSTEM, "mixtral-8x7b-instruct.txt"),
                Arguments.of("llama3-first-release.jinja", "<|begin_of_text|>", "<|end_of_text|>", WITH_SYSTEM, "llama3-first-release.txt"),
                Arguments.of("phi3-mini-first-release.jinja", "<s>", "</s>", WITH_SYSTEM, "phi3-mini-first-release.txt"),
                Arguments.of("vigogne-2-chat.jinja", "<s>", "</s>", NO_SYSTEM, "vigogne-2-chat-no-system.txt"),
                Arguments.of("deepseek-coder-instruct.jinja", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", WITH_SYSTEM,
                        "deepseek-coder-instruct.txt"));
    }

    @ParameterizedTest(name = "{0} -> {4}")
    @MethodSource("cases")
    void rendersTheDocumentedFormat(String template, String bos, String eos, List<Message> conversation, String expected) throws IOException {
        ChatTemplate t = template.endsWith(".jinja")
                ? new ChatTemplate(template, resource(template), bos, eos)
                : ChatTemplate.builtIn(template, bos, eos);
        assertEquals(resource(expected), t.render(conversation, true));
    }

    static String resource(String name) throws IOException {
        try (InputStream in = ChatTemplateTest.class.getResourceAsStream("/chat-templates/" + name)) {
            if (in == null) throw new IOException("missing test resource chat-templates/" + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void everyFamilyNamesTheTextThatEndsAnAnswer() {
        List<String> markers = new ArrayList<>();
        for (String family : ChatTemplate.BUILT_IN) markers.add(family + "=" + ChatTemplate.builtIn(family, "<s>", "</s>").endMarker());
        assertEquals(List.of("llama2=</s>", "llama3=<|eot_id|>", "mistral=</s>", "chatml=<|im_end|>", "qwen2=<|im_end|>",
                "zephyr=</s>", "phi3=<|end|>", "gemma=<end_of_turn>", "smollm=<|im_end|>"), markers);
    }

    @Test
    void withoutGenerationPromptTheConversationEndsAfterTheLastMessage() {
        String s = ChatTemplate.builtIn("chatml", "", "").render(WITH_SYSTEM.subList(0, 3), false);
        assertTrue(s.endsWith("<|im_start|>assistant\nHi there!<|im_end|>\n"), s);
    }

    @Test
    void raiseExceptionBecomesAOneLineRefusal() {
        ChatTemplate llama2 = ChatTemplate.builtIn("llama2", "<s>", "</s>");
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> llama2.render(List.of(Message.user("a"), Message.user("b")), true));
        assertEquals("the llama2 chat template refuses the conversation: "
                + "Conversation roles must alternate user/assistant/user/assistant/...", e.getMessage());
    }

    @Test
    void brokenTemplatesAreReportedNotRenderedAsText() {
        ChatTemplate broken = new ChatTemplate("broken", "{% for m in messages %}{{ m.content ", "", "");
        assertThrows(ChatTemplateException.class, () -> broken.render(NO_SYSTEM, true));
        ChatTemplate unknownFunction = new ChatTemplate("f", "{{ no_such_helper(messages) }}", "", "");
        assertThrows(ChatTemplateException.class, () -> unknownFunction.render(NO_SYSTEM, true));
    }

    @Test
    void pythonStringMethodsWork() {
        ChatTemplate t = new ChatTemplate("py", "{% set s = messages[0]['content'] %}"
                + "{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ s.strip().startswith('He') }}|{{ s.endswith(('x', 'y  ')) }}"
                + "|{{ s.upper() }}|{{ s.lower().strip() }}|{{ s.split() | length }}|{{ s.split('l') | join('+') }}"
                + "|{{ s.strip().title() }}|{{ '-'.join(['a', 'b']) }}|{{ s.replace('l', 'L', 1) }}|{{ s.count('l') }}"
                + "|{{ s.find('e') }}|{{ s.strip('y ') }}", "", "");
        assertEquals("Hello wory|Hello wory  |  Hello wory|true|true|  HELLO WORY  |hello wory|2|  He++o wory  "
                + "|Hello Wory|a-b|  HeLlo wory  |2|3|Hello wor", t.render(List.of(Message.user("  Hello wory  ")), false));
    }

    @Test
    void notBindsLikeInPython() {
        assertEquals("{{ 'x' not in s }}", ChatTemplate.pythonNotPrecedence("{{ not 'x' in s }}"));
        assertEquals("{% if a.b['c'] != 1 and d not in e %}", ChatTemplate.pythonNotPrecedence("{% if not a.b['c'] == 1 and not d in e %}"));
        assertEquals("{% if x is not none and not y %}not a in b", ChatTemplate.pythonNotPrecedence("{% if x is not none and not y %}not a in b"));
        ChatTemplate t = new ChatTemplate("not", "{{ not 'q' in messages[0].content }}{{ not messages[0].content == 'abc' }}", "", "");
        assertEquals("truetrue", t.render(List.of(Message.user("xyz")), false));
    }
}
