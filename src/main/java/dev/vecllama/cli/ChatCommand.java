package dev.vecllama.cli;

import dev.vecllama.chat.CachedSequence;
import dev.vecllama.chat.ChatFormat;
import dev.vecllama.chat.ChatRepl;
import dev.vecllama.chat.ChatSession;
import dev.vecllama.chat.ReplConsole;
import dev.vecllama.model.Model;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code chat MODEL} (or MODEL with no prompt): the interactive chat. */
@Command(name = "chat", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Chat with a model: line editing and history, /help for commands, Ctrl-C stops an answer, Ctrl-D leaves.")
final class ChatCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = "GGUF model file")
    Path model;

    @Option(names = {"-n", "--n-predict"}, description = "longest answer in tokens; -1 = until the model ends it or the context is full (default: ${DEFAULT-VALUE})")
    int maxTokens = -1;

    @Option(names = {"-c", "--ctx-size"}, description = "context size in tokens (default: the model's, at most 4096)")
    Integer contextSize;

    @Option(names = {"-t", "--threads"}, description = "threads (default: all cores)")
    Integer threads;

    @Option(names = {"-b", "--batch-size"}, description = "prompt tokens per batch (default: ${DEFAULT-VALUE})")
    int batchSize = 512;

    @Mixin
    ChatOptions chat = new ChatOptions();

    @Mixin
    NF4Options nf4 = new NF4Options();

    @Mixin
    ActivationOptions act = new ActivationOptions();

    @Mixin
    SamplingOptions sampling = new SamplingOptions();

    /** The flags of chatting, shared with the root command, which chats when given no prompt. */
    static final class ChatOptions {
        @Option(names = "--chat-template", paramLabel = "NAME|FILE",
                description = "chat template: a family (llama2, llama3, mistral, chatml, qwen2, zephyr, phi3, gemma, smollm) or a Jinja file (default: the model's own)")
        String template;

        @Option(names = "--system", paramLabel = "TEXT", description = "system message")
        String system;

        @Option(names = "--ctx-shift", description = "when the context is full, drop the oldest turns (default: stop and say so)")
        boolean ctxShift;

        @Option(names = "--special", description = "print control tokens such as <|im_end|>")
        boolean special;
    }

    @Override
    public Integer call() {
        return run(model, maxTokens, contextSize, threads, batchSize, chat, nf4, act, sampling);
    }

    static int run(Path modelPath, int maxTokens, Integer contextSize, Integer threads, int batchSize,
                   ChatOptions chat, NF4Options nf4, ActivationOptions act, SamplingOptions sampling) {
        Options.maxTokens(maxTokens);
        try (Model m = Model.load(modelPath, Options.threads(threads), nf4.format(), act.settings())) {
            int ctx = Options.contextSize(contextSize, m.config.contextLength());
            ChatFormat format = ChatFormat.of(m.file, m.tokenizer, chat.template);
            System.err.println(format.describe());
            CachedSequence sequence = new CachedSequence(m.llama.newState(ctx, Options.batch(batchSize, ctx), false));
            ChatSession session = new ChatSession(m, format, sequence, sampling.settings(), maxTokens,
                    chat.ctxShift ? ChatSession.ContextPolicy.SHIFT : ChatSession.ContextPolicy.STOP, chat.special, chat.system);
            AtomicBoolean cancel = new AtomicBoolean();
            Path history = Path.of(System.getProperty("user.home"), ".vecllama_history");
            try (ReplConsole console = ReplConsole.system(history, () -> cancel.set(true))) {
                new ChatRepl(session, console, cancel).run();
            }
        }
        return 0;
    }
}
