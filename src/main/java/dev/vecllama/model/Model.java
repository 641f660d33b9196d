package dev.vecllama.model;

import dev.vecllama.activation.ActivationMode;
import dev.vecllama.activation.ActivationQuantizer;
import dev.vecllama.gguf.GGUFFile;
import dev.vecllama.kernel.Exp;
import dev.vecllama.kernel.KernelWarmup;
import dev.vecllama.kernel.ThreadPool;
import dev.vecllama.quant.NF4;
import dev.vecllama.quant.NF4Conversion;
import dev.vecllama.tokenizer.Tokenizer;
import java.lang.foreign.Arena;
import java.nio.file.Path;

/** A loaded model: the mapped file, its hyper-parameters, tokenizer, weights and thread pool. */
public final class Model implements AutoCloseable {
    public final GGUFFile file;
    public final LlamaConfig config;
    public final Tokenizer tokenizer;
    public final Llama llama;
    private final ThreadPool pool;
    /** Memory of the weights converted on load, or null when all stay in the mapped file. */
    private final Arena converted;

    private Model(GGUFFile file, int threads, NF4 nf4, ActivationSettings act, Arena converted) {
        this.file = file;
        this.config = LlamaConfig.from(file);
        this.converted = converted;
        // Read before any thread starts, so that a bad scales file leaves nothing to clean up.
        float[] scales = act.mode() == ActivationMode.STATIC ? ActivationScalesFile.read(act.scales(), file, config, act.method()) : null;
        Weights weights = new Weights(file, config);
        if (nf4 != null) weights = NF4Conversion.convert(weights, nf4, converted, System.err);
        // JIT-compiles the kernels while the tokenizer is built.
        KernelWarmup.start(weights.formatSamples(), Attention.EXERCISE, Exp.SWIGLU, Exp.SOFTMAX, ActivationQuantizer.VECTOR);
        this.tokenizer = Tokenizer.fromGGUF(file);
        this.pool = new ThreadPool(threads);
        this.llama = new Llama(config, weights, pool, act.mode(), scales);
    }

    public static Model load(Path path, int threads) {
        return load(path, threads, null);
    }

    /** Loads with the layers' linear weights quantized to {@code nf4} in memory (null: as stored). */
    public static Model load(Path path, int threads, NF4 nf4) {
        return load(path, threads, nf4, ActivationSettings.DYNAMIC);
    }

    /** As {@link #load(Path, int, NF4)}, with the linear inputs quantized as {@code act} says. */
    public static Model load(Path path, int threads, NF4 nf4, ActivationSettings act) {
        GGUFFile f = GGUFFile.open(path);
        Arena converted = nf4 == null ? null : Arena.ofShared();
        try {
            return new Model(f, threads, nf4, act, converted);
        } catch (RuntimeException e) {
            if (converted != null) converted.close();
            f.close();
            throw e;
        }
    }

    public int threads() {
        return pool.threads();
    }

    @Override
    public void close() {
        pool.close();
        if (converted != null) converted.close();
        file.close();
    }
}
