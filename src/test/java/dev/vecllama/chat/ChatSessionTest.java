package dev.vecllama.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vecllama.model.Generator;
import dev.vecllama.model.Llama;
import dev.vecllama.model.Model;
import dev.vecllama.sampling.Sampler;
import dev.vecllama.sampling.SamplerSettings;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Multi-turn chat on a real model: the KV cache carries the conversation, and answers do not depend on it. */
class ChatSessionTest {
    static Model model;
    static final SamplerSettings GREEDY = SamplerSettings.builder().temperature(0).build();

    @BeforeAll
    static void load() {
        model = TestModel.load();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static ChatSession session(String template, int ctx, int maxTokens, ChatSession.ContextPolicy policy) {
        ChatFormat format = ChatFormat.of(model.file, model.tokenizer, template);
        CachedSequence seq = new CachedSequence(model.llama.newState(ctx, 64, false));
        return new ChatSession(model, format, seq, GREEDY, maxTokens, policy, false, "You answer questions about Python.");
    }

    @Test
    void laterTurnsEvaluateOnlyWhatIsNewAndAnswerAsIfFromScratch() {
        ChatSession s = session("chatml", 256, 16, ChatSession.ContextPolicy.STOP);
        ChatSession.Reply first = s.reply("What is a list?", x -> {}, () -> false);
        assertEquals(0, first.stats().reusedTokens());
        StringBuilder streamed = new StringBuilder();
        ChatSession.Reply second = s.reply("And a tuple?", streamed::append, () -> false);
        assertEquals(streamed.toString(), second.text());
        int firstTurn = first.stats().promptTokens() + first.stats().generatedTokens();
        assertTrue(second.stats().reusedTokens() >= first.stats().promptTokens(),
                "reused " + second.stats().reusedTokens() + " of a first turn of " + firstTurn + " tokens");
        assertEquals(4 + 1, s.conversation().messages().size());

        // The same conversation evaluated from an empty cache gives the same answer.
        ChatSession fresh = session("chatml", 256, 16, ChatSession.ContextPolicy.STOP);
        fresh.conversation().replaceWith(s.conversation());
        fresh.conversation().removeLast();
        fresh.conversation().removeLast();
        ChatSession.Reply again = fresh.reply("And a tuple?", x -> {}, () -> false);
        assertEquals(0, again.stats().reusedTokens());
        assertEquals(second.text(), again.text());
    }

    @Test
    void aCancelledAnswerStopsAndStaysAsFarAsItGot() {
        ChatSession s = session("chatml", 256, 40, ChatSession.ContextPolicy.STOP);
        List<String> pieces = new ArrayList<>();
        ChatSession.Reply r = s.reply("Tell me about dictionaries.", pieces::add, () -> pieces.size() >= 3);
        assertEquals(ChatSession.Finish.CANCELLED, r.finish());
        assertEquals(3, r.stats().generatedTokens());
        assertEquals(Message.assistant(r.text()), s.conversation().messages().getLast());
    }

    @Test
    void aFullContextStopsWithAClearMessageOrDropsOldTurns() {
        ChatSession stop = session("chatml", 96, 24, ChatSession.ContextPolicy.STOP);
        ContextFullException e = assertThrows(ContextFullException.class, () -> {
            for (int i = 0; i < 10; i++) stop.reply("Explain the list type in detail, number " + i, x -> {}, () -> false);
        });
        assertTrue(e.getMessage().startsWith("context full"), e.getMessage());
        assertEquals(Message.ASSISTANT, stop.conversation().messages().getLast().role(), "the refused message is not kept");

        ChatSession shift = session("chatml", 96, 24, ChatSession.ContextPolicy.SHIFT);
        int dropped = 0;
        for (int i = 0; i < 6; i++) dropped += shift.reply("Explain the list type in detail, number " + i, x -> {}, () -> false).droppedTurns();
        assertTrue(dropped > 0);
        assertEquals(Message.system("You answer questions about Python."), shift.conversation().messages().getFirst());
        assertTrue(shift.contextUsed() <= 96);
    }

    @Test
    void withoutATemplateInputsAreContinuedAsPlainText() {
        ChatSession s = session(null, 256, 12, ChatSession.ContextPolicy.STOP);
        assertTrue(s.format().plain());
        assertTrue(s.format().describe().contains("plain completion"), s.format().describe());
        s.conversation().reset();
        s.conversation().removeLast(); // plain text has no system message
        String reply = s.reply("The list type", x -> {}, () -> false).text();

        // The same as continuing the prompt directly, as ./run.sh MODEL "prompt" does.
        Llama.State st = model.llama.newState(256, 64, false);
        StringBuilder direct = new StringBuilder();
        Generator.generate(model, st, model.tokenizer.encode("The list type"), 12, new Sampler(GREEDY, model.config.vocabSize()),
                t -> direct.append(new String(model.tokenizer.decodeBytes(t), java.nio.charset.StandardCharsets.UTF_8)) != null);
        assertEquals(direct.toString(), reply);
        assertFalse(reply.isBlank());
    }
}
