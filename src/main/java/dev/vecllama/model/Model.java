package dev.vecllama.model;

import dev.vecllama.gguf.GGUFFile;
import dev.vecllama.kernel.KernelWarmup;
import dev.vecllama.kernel.ThreadPool;
import dev.vecllama.tokenizer.Tokenizer;
import java.nio.file.Path;

/** A loaded model: the mapped file, its hyper-parameters, tokenizer, weights and thread pool. */
public final class Model implements AutoCloseable {
    public final GGUFFile file;
    public final LlamaConfig config;
    public final Tokenizer tokenizer;
    public final Llama llama;
    private final ThreadPool pool;

    private Model(GGUFFile file, int threads) {
        this.file = file;
        this.config = LlamaConfig.from(file);
        Weights weights = new Weights(file, config);
        KernelWarmup.start(weights.formats()); // JIT-compiles the kernels while the tokenizer is built
        this.tokenizer = Tokenizer.fromGGUF(file);
        this.pool = new ThreadPool(threads);
        this.llama = new Llama(config, weights, pool);
    }

    public static Model load(Path path, int threads) {
        GGUFFile f = GGUFFile.open(path);
        try {
            return new Model(f, threads);
        } catch (RuntimeException e) {
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
        file.close();
    }
}
