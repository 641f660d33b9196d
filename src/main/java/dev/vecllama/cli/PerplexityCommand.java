package dev.vecllama.cli;

import dev.vecllama.eval.ChunkPlan;
import dev.vecllama.eval.KlDivergence;
import dev.vecllama.eval.KldBaseFile;
import dev.vecllama.eval.NllStats;
import dev.vecllama.eval.Perplexity;
import dev.vecllama.model.Model;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code perplexity MODEL -f text.txt}: llama-perplexity's measurement (same chunks, same scored
 * positions, same error estimate), plus its KL-divergence mode against a stored base model.
 */
@Command(name = "perplexity", sortOptions = false,
        description = "Perplexity over a text file in chunks of -c tokens (the second half of each chunk is scored, as llama-perplexity does); "
                + "with --kl-divergence-base, store or compare full-precision predictions.")
final class PerplexityCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = "GGUF model file")
    Path model;

    @Option(names = {"-f", "--file"}, paramLabel = "TEXT", description = "text file to evaluate (not needed with --kl-divergence: the base file holds the tokens)")
    Path textFile;

    @picocli.CommandLine.Mixin
    ChunkOptions chunks = new ChunkOptions();

    @Option(names = "--kl-divergence-base", paramLabel = "FILE",
            description = "write this model's log-probabilities to FILE, or with --kl-divergence read them from it")
    Path kldBase;

    @Option(names = "--kl-divergence", description = "compare with the log-probabilities in --kl-divergence-base FILE")
    boolean kld;

    @picocli.CommandLine.Mixin
    ActivationOptions act = new ActivationOptions();

    @Override
    public Integer call() {
        if (kld && kldBase == null) throw new IllegalArgumentException("--kl-divergence needs --kl-divergence-base FILE");
        var activations = act.settings();
        String text = kld && textFile == null ? null : readText();
        try (Model m = Model.load(model, chunks.threads(), null, activations)) {
            if (kld) return compare(m, text);
            int nCtx = chunks.contextSize(m);
            ChunkPlan plan = Perplexity.plan(m, text, nCtx, chunks.maxChunks);
            System.err.printf("perplexity: %d tokens, %d chunks of %d, scoring %d positions, %d threads%n",
                    plan.tokens().length, plan.chunks(), nCtx, plan.scoredTotal(), m.threads());
            NllStats s;
            if (kldBase == null) {
                s = Perplexity.run(m, plan, chunks.batch, null, System.err);
            } else {
                try (KldBaseFile.Writer w = new KldBaseFile.Writer(kldBase, plan, m.config.vocabSize())) {
                    s = Perplexity.run(m, plan, chunks.batch, w, System.err);
                    w.commit();
                }
                System.err.println("wrote " + kldBase);
            }
            System.out.printf("PPL = %.4f ± %.5f%n", s.ppl(), s.pplStderr());
        }
        return 0;
    }

    private int compare(Model m, String text) {
        try (KldBaseFile.Reader base = new KldBaseFile.Reader(kldBase)) {
            ChunkPlan plan = base.plan;
            if (chunks.contextSize != null && chunks.contextSize != plan.nCtx()) {
                throw new IllegalArgumentException(kldBase + " was computed with -c " + plan.nCtx() + ", not " + chunks.contextSize);
            }
            if (text != null) {
                int[] mine = Perplexity.plan(m, text, plan.nCtx(), plan.chunks()).tokens();
                if (mine.length < plan.tokens().length
                        || !Arrays.equals(mine, 0, plan.tokens().length, plan.tokens(), 0, plan.tokens().length)) {
                    throw new IllegalArgumentException("the text does not tokenize to the tokens stored in " + kldBase
                            + " (another text, or another tokenizer)");
                }
            }
            System.err.printf("kl-divergence: %d chunks of %d, scoring %d positions, %d threads%n",
                    plan.chunks(), plan.nCtx(), plan.scoredTotal(), m.threads());
            KlDivergence result = Perplexity.compare(m, base, chunks.batch, System.err);
            result.report(System.out);
        }
        return 0;
    }

    private String readText() {
        return TextFiles.read(textFile, "the text file to evaluate");
    }
}
