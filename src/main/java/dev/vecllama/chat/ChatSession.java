package dev.vecllama.chat;

import dev.vecllama.model.Generator;
import dev.vecllama.model.Model;
import dev.vecllama.sampling.Sampler;
import dev.vecllama.sampling.SamplerSettings;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A conversation with a model that stays in the KV cache between turns: each answer renders the whole
 * conversation and evaluates only the tokens the cache does not hold yet.
 */
public final class ChatSession {
    /** What to do when the conversation no longer fits the context. */
    public enum ContextPolicy {
        /** Refuse the turn and say so; /reset starts over. */
        STOP,
        /** Drop the oldest exchanges until the conversation fits (evaluating it again from there). */
        SHIFT
    }

    /** Why an answer ended. */
    public enum Finish { END, LENGTH, CONTEXT_FULL, CANCELLED }

    public record Reply(String text, Finish finish, Generator.Stats stats, int droppedTurns) {}

    private final Model model;
    private final ChatFormat format;
    private final CachedSequence sequence;
    private final SamplerSettings sampling;
    private final int maxTokens;
    private final ContextPolicy policy;
    private final boolean showSpecial;
    private final Conversation conversation;
    private Generator.Stats last;

    /**
     * @param maxTokens   the longest answer in tokens; negative for no limit but the context
     * @param showSpecial print control tokens instead of hiding them
     */
    public ChatSession(Model model, ChatFormat format, CachedSequence sequence, SamplerSettings sampling, int maxTokens,
                       ContextPolicy policy, boolean showSpecial, String system) {
        this.model = model;
        this.format = format;
        this.sequence = sequence;
        this.sampling = sampling;
        this.maxTokens = maxTokens;
        this.policy = policy;
        this.showSpecial = showSpecial;
        this.conversation = new Conversation(system);
    }

    public Conversation conversation() {
        return conversation;
    }

    public ChatFormat format() {
        return format;
    }

    /** The last answer's numbers, or null before the first. */
    public Generator.Stats lastStats() {
        return last;
    }

    public int contextUsed() {
        return sequence.size();
    }

    public int contextSize() {
        return sequence.capacity();
    }

    /**
     * Adds the user's message and streams the model's answer to {@code out}, piece by piece; the answer
     * joins the conversation (also when cancelled, as far as it got).
     *
     * @param cancelled polled after each token; true stops the answer
     * @throws ContextFullException if the conversation does not fit and the policy is {@link ContextPolicy#STOP}
     */
    public Reply reply(String userText, Consumer<String> out, BooleanSupplier cancelled) {
        conversation.add(Message.user(userText));
        int[] prompt;
        int dropped = 0;
        try {
            prompt = format.prompt(conversation.messages());
            while (prompt.length + answerRoom() > sequence.capacity()) {
                if (policy != ContextPolicy.SHIFT || !conversation.dropOldestTurn()) {
                    throw new ContextFullException(prompt.length, sequence.capacity(), policy == ContextPolicy.SHIFT);
                }
                dropped++;
                prompt = format.prompt(conversation.messages());
            }
        } catch (RuntimeException e) {
            conversation.removeLast();
            throw e;
        }
        TextStream text = new TextStream(model.tokenizer, showSpecial, format.stopStrings(), out);
        Sampler sampler = new Sampler(sampling, model.config.vocabSize());
        boolean[] wasCancelled = {false};
        Generator.Stats st = sequence.generate(model.llama::forward, prompt, maxTokens, sampler, format::isEnd, token -> {
            boolean more = text.accept(token);
            wasCancelled[0] = more && cancelled.getAsBoolean();
            return more && !wasCancelled[0];
        });
        text.finish();
        last = st;
        conversation.add(Message.assistant(text.text()));
        Finish finish = wasCancelled[0] ? Finish.CANCELLED
                : st.endOfGeneration() || text.stopped() ? Finish.END
                : st.contextFull() ? Finish.CONTEXT_FULL : Finish.LENGTH;
        return new Reply(text.text(), finish, st, dropped);
    }

    /** Room kept for the answer: under SHIFT old turns go to make it; under STOP one token is enough to start. */
    private int answerRoom() {
        if (policy == ContextPolicy.STOP) return 1;
        int quarter = Math.max(1, sequence.capacity() / 4);
        return maxTokens > 0 ? Math.min(maxTokens, quarter) : quarter;
    }
}
