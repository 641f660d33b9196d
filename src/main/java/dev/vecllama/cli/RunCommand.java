package dev.vecllama.cli;

import dev.vecllama.model.Generator;
import dev.vecllama.model.Llama;
import dev.vecllama.model.Model;
import dev.vecllama.sampling.Sampler;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The main job: {@code MODEL "prompt"} streams a continuation of the prompt to stdout; {@code MODEL} alone chats. */
@Command(name = "vecllama", mixinStandardHelpOptions = true, version = "vecllama 0.1",
        description = "Run a GGUF language model on the CPU: MODEL \"prompt\" streams a continuation; MODEL alone opens a chat.",
        subcommands = {InfoCommand.class, BenchCommand.class, GenModelCommand.class, ChatCommand.class, ServeCommand.class,
                PerplexityCommand.class, QuantizeCommand.class, CalibrateCommand.class},
        // INHERIT hands -h/--help and -V/--version to every verb, including ones added later.
        sortOptions = false, scope = picocli.CommandLine.ScopeType.INHERIT)
final class RunCommand implements Callable<Integer> {

    // Optional to Picocli so that verbs (info, ...) are not taken for a missing model; checked in call().
    @Parameters(index = "0", arity = "0..1", paramLabel = "MODEL", description = "GGUF model file")
    Path model;

    @Parameters(index = "1", arity = "0..1", paramLabel = "PROMPT", description = "text to continue")
    String prompt;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = {"-n", "--n-predict"}, description = "tokens to generate; -1 = until the context is full (default: 256; in a chat, until the answer ends)")
    Integer maxTokens;

    @Option(names = {"-c", "--ctx-size"}, description = "context size in tokens (default: the model's, at most 4096)")
    Integer contextSize;

    @Option(names = {"-t", "--threads"}, description = "threads (default: all cores)")
    Integer threads;

    @Option(names = {"-b", "--batch-size"}, description = "prompt tokens per batch (default: ${DEFAULT-VALUE})")
    int batchSize = 512;

    @Option(names = "--echo", description = "print the prompt before the continuation")
    boolean echo;

    @picocli.CommandLine.Mixin
    SamplingOptions sampling = new SamplingOptions();

    @picocli.CommandLine.Mixin
    ChatCommand.ChatOptions chat = new ChatCommand.ChatOptions();

    @picocli.CommandLine.Mixin
    NF4Options nf4 = new NF4Options();

    @picocli.CommandLine.Mixin
    ActivationOptions act = new ActivationOptions();

    @Override
    public Integer call() {
        if (model == null) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing MODEL");
        if (prompt == null) return ChatCommand.run(model, maxTokens == null ? -1 : maxTokens, contextSize, threads, batchSize, chat, nf4, act, sampling);
        int limit = Options.maxTokens(maxTokens == null ? 256 : maxTokens);
        long t0 = System.nanoTime();
        try (Model m = Model.load(model, Options.threads(threads), nf4.format(), act.settings())) {
            int ctx = Options.contextSize(contextSize, m.config.contextLength());
            int[] tokens = m.tokenizer.encode(prompt);
            Llama.State state = m.llama.newState(ctx, Options.batch(batchSize, tokens.length), false);
            long loadNanos = System.nanoTime() - t0;
            Sampler sampler = new Sampler(sampling.settings(), m.config.vocabSize());
            PrintStream out = System.out;
            if (echo) {
                out.print(prompt);
                out.flush();
            }
            Generator.Stats st = Generator.generate(m, state, tokens, limit, sampler, token -> {
                byte[] piece = m.tokenizer.decodeBytes(token);
                out.write(piece, 0, piece.length);
                out.flush();
                return true;
            });
            out.println();
            out.flush();
            System.err.printf("prompt: %d tokens, %.1f tok/s | generated: %d tokens, %.1f tok/s | load: %d ms | threads: %d%s%n",
                    st.promptTokens(), st.promptTokensPerSecond(), st.generatedTokens(), st.generateTokensPerSecond(),
                    loadNanos / 1_000_000, m.threads(), st.contextFull() ? " | stopped: context full (-c)" : "");
        }
        return 0;
    }
}
