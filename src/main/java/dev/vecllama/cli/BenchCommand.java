package dev.vecllama.cli;

import dev.vecllama.activation.ActivationMode;
import dev.vecllama.gguf.FileType;
import dev.vecllama.kernel.KernelWarmup;
import dev.vecllama.model.ActivationSettings;
import dev.vecllama.model.Llama;
import dev.vecllama.model.Model;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code bench MODEL}: prompt processing (ppN: N tokens in batches) and generation (tgN: N tokens
 * one at a time) throughput, as llama-bench measures them, as a markdown table.
 */
@Command(name = "bench", description = "Measure prompt processing and generation speed (like llama-bench).")
final class BenchCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = "GGUF model file")
    Path model;

    @Option(names = {"-p", "--n-prompt"}, split = ",", description = "prompt lengths to test (default: ${DEFAULT-VALUE})")
    List<Integer> prompt = List.of(512);

    @Option(names = {"-n", "--n-gen"}, split = ",", description = "generation lengths to test (default: ${DEFAULT-VALUE})")
    List<Integer> gen = List.of(128);

    @Option(names = {"-t", "--threads"}, split = ",", description = "thread counts to test (default: all cores)")
    List<Integer> threads;

    @Option(names = {"-b", "--batch-size"}, description = "prompt tokens per batch (default: ${DEFAULT-VALUE})")
    int batch = 512;

    @Option(names = {"-r", "--repetitions"}, description = "repetitions of each test (default: ${DEFAULT-VALUE})")
    int repetitions = 5;

    @picocli.CommandLine.Mixin
    ActivationOptions act = new ActivationOptions();

    @Override
    public Integer call() {
        if (repetitions < 1) throw new IllegalArgumentException("-r/--repetitions must be at least 1, got " + repetitions);
        for (int v : prompt) if (v < 0) throw new IllegalArgumentException("-p values must be >= 0, got " + v);
        for (int v : gen) if (v < 0) throw new IllegalArgumentException("-n values must be >= 0, got " + v);
        List<Integer> threadCounts = threads == null ? List.of(Options.threads(null)) : threads;
        ActivationSettings activations = act.settings();
        boolean header = false;
        long fileBytes = 0;
        for (int t : threadCounts) {
            try (Model m = Model.load(model, Options.threads(t), null, activations)) {
                KernelWarmup.await(m.llama.weights.formatSamples()); // llama-bench, too, measures warm kernels only
                if (!header) {
                    System.out.println("| model | size | params | threads | test | t/s |");
                    System.out.println("| --- | ---: | ---: | ---: | ---: | ---: |");
                    header = true;
                }
                String name = m.file.getString("general.name", model.getFileName().toString()) + " "
                        + (m.file.has("general.file_type") ? FileType.name(m.file.getInt("general.file_type")) : "")
                        + (activations.mode() == ActivationMode.DYNAMIC ? "" : " act " + activations.mode().id());
                fileBytes = m.file.fileSize();
                String size = String.format("%.2f MiB", fileBytes / 1048576.0);
                long params = m.file.tensors().values().stream().mapToLong(x -> x.elementCount()).sum();
                String paramText = String.format("%.2f M", params / 1e6);
                for (int p : prompt) {
                    if (p > 0) row(name, size, paramText, t, "pp" + p, measure(m, p, true));
                }
                for (int n : gen) {
                    if (n > 0) row(name, size, paramText, t, "tg" + n, measure(m, n, false));
                }
                residentAfter = ResidentMemory.now(); // while the model is still mapped
            }
        }
        memory(fileBytes);
        return 0;
    }

    /** The largest KV cache a test held, and the resident set after the last test, for {@link #memory}. */
    private long kvBytes;
    private OptionalLong residentAfter = OptionalLong.empty();

    /**
     * Below the table, the resident set after the tests and at its peak, beside what issue 3's target
     * allows for: the model file and the KV cache. (The peak comes while the JIT compiles the kernels;
     * run.sh has the JVM trim its native heap every second, so the first figure is what a long-running
     * process keeps.)
     */
    private void memory(long fileBytes) {
        OptionalLong peak = ResidentMemory.peak();
        if (residentAfter.isEmpty() || peak.isEmpty()) return;
        // Linux updates the peak (VmHWM) lazily: it can trail a resident set read earlier.
        long peakBytes = Math.max(peak.getAsLong(), residentAfter.getAsLong());
        System.out.printf("%nresident set: %.1f MiB after the tests, %.1f MiB at its peak (model file %.2f MiB, largest KV cache %.2f MiB)%n",
                residentAfter.getAsLong() / 1048576.0, peakBytes / 1048576.0, fileBytes / 1048576.0, kvBytes / 1048576.0);
    }

    /**
     * The JIT goes on compiling the code around the kernels (the thread pool, the forward pass's
     * steps) for seconds after the kernels are fast, while a tiny model's run takes milliseconds: warm-up
     * runs (not counted) go on for at least this long, and then until two in a row agree within 5%.
     * Two agreeing runs alone had measured a tiny model's pp256 at 2 threads 5-6k t/s, ±25%, at 5 s
     * of uptime, where 30 repetitions rose to a steady 11k.
     */
    private static final long WARM_NANOS = 3_000_000_000L;
    /** Warm-up runs stop here even if two never agree. */
    private static final long SETTLE_NANOS = 10_000_000_000L;

    /** Tokens per second of each repetition, after warm-up runs that are not counted. */
    private double[] measure(Model m, int tokens, boolean batched) {
        int[] ids = new SplittableRandom(42).ints(tokens, 0, m.config.vocabSize()).toArray();
        Llama.State state = m.llama.newState(tokens, batched ? Math.min(batch, tokens) : 1, false);
        kvBytes = Math.max(kvBytes, state.cache.byteSize());
        long settling = System.nanoTime(), last = run(m, state, ids, batched);
        while (System.nanoTime() - settling < SETTLE_NANOS) {
            long t = run(m, state, ids, batched);
            boolean settled = System.nanoTime() - settling >= WARM_NANOS && Math.abs(t - last) <= 0.05 * last;
            last = t;
            if (settled) break;
        }
        double[] rates = new double[repetitions];
        for (int r = 0; r < repetitions; r++) rates[r] = tokens * 1e9 / run(m, state, ids, batched);
        return rates;
    }

    /** Nanoseconds for one run: the tokens as one batched prompt, or one at a time. */
    private static long run(Model m, Llama.State state, int[] ids, boolean batched) {
        long t0 = System.nanoTime();
        if (batched) {
            m.llama.forward(state, ids, 0, ids.length, 0);
        } else {
            for (int pos = 0; pos < ids.length; pos++) m.llama.forward(state, ids, pos, 1, pos);
        }
        return System.nanoTime() - t0;
    }

    private static void row(String name, String size, String params, int threads, String test, double[] rates) {
        double mean = 0;
        for (double r : rates) mean += r;
        mean /= rates.length;
        double var = 0;
        for (double r : rates) var += (r - mean) * (r - mean);
        double sd = rates.length > 1 ? Math.sqrt(var / (rates.length - 1)) : 0;
        System.out.printf("| %s | %s | %s | %d | %s | %.2f ± %.2f |%n", name, size, params, threads, test, mean, sd);
        System.out.flush();
    }
}
