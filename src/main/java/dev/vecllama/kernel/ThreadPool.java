package dev.vecllama.kernel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of worker threads, created once, that split a range of work into contiguous chunks,
 * one or a few per thread. Each thread runs its own chunks first and then claims any other chunk
 * nobody has started yet: on a busy machine a descheduled or slower thread costs a slower job,
 * never a stall of a scheduler time slice. Workers spin briefly between jobs (the next matmul
 * follows within microseconds during a forward pass) and then park, so an idle runtime costs no
 * CPU. Nothing is allocated per job: callers pass reusable {@link RangeTask} objects.
 */
public final class ThreadPool implements AutoCloseable {

    @FunctionalInterface
    public interface RangeTask {
        /** Runs units {@code [start, end)} on pool thread {@code thread} (0 = the caller), e.g. to pick its scratch buffer. */
        void run(int thread, int start, int end);
    }

    private static final long SPIN_NANOS = 100_000;
    /** The most chunks per thread a job may ask for. */
    public static final int MAX_CHUNKS_PER_THREAD = 4;

    private final Thread[] workers;
    private final int threads;
    /** Per chunk: 0 = free, 1 = claimed, for the current job; chunks beyond it stay claimed. */
    private final AtomicIntegerArray claimed;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile int generation;
    private volatile boolean closed;
    private RangeTask task;
    private int total;
    private int grain;
    /** Threads of the current job: all of them, or one fewer during the warm-up. */
    private int active;
    /** Chunks of the current job: a multiple of {@link #active}. */
    private int chunks;
    private volatile Throwable failure;

    public ThreadPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("thread count must be at least 1, got " + threads);
        this.threads = threads;
        this.claimed = new AtomicIntegerArray(threads * MAX_CHUNKS_PER_THREAD);
        // Every chunk starts claimed and a job frees only its own, once it is set up: a worker still
        // walking the last job's chunks can then claim nothing but a chunk of the job now running.
        for (int i = 0; i < claimed.length(); i++) claimed.set(i, 1);
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            int index = i + 1;
            workers[i] = Thread.ofPlatform().daemon().name("vecllama-worker-" + index).start(() -> work(index));
        }
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code task} over {@code [0, n)} split into one contiguous chunk per thread, chunk
     * boundaries rounded to multiples of {@code grain}; returns when every chunk is done.
     */
    public void parallelFor(int n, int grain, RangeTask task) {
        parallelFor(n, grain, 1, task);
    }

    /**
     * {@link #parallelFor(int, int, RangeTask)} in {@code chunksPerThread} chunks per thread (at most
     * {@link #MAX_CHUNKS_PER_THREAD}): a thread that finishes its own early takes over the others'
     * unstarted ones, so a slower core holds the job up by a fraction of its share, not all of it.
     */
    public void parallelFor(int n, int grain, int chunksPerThread, RangeTask task) {
        if (chunksPerThread < 1 || chunksPerThread > MAX_CHUNKS_PER_THREAD) {
            throw new IllegalArgumentException("chunks per thread must be 1.." + MAX_CHUNKS_PER_THREAD + ", got " + chunksPerThread);
        }
        // While kernels warm up, one core is left to the warm-up thread and the JIT compilers: on 2
        // cores, a tiny model's first 200 tokens (JVM start included) took 3.1-3.7 s so, 3.5-4.0 s
        // with both cores computing.
        int active = KernelWarmup.warming() ? Math.max(1, threads - 1) : threads;
        if (active == 1 || n <= grain) {
            task.run(0, 0, n);
            return;
        }
        this.task = task;
        this.total = n;
        this.grain = grain;
        this.active = active;
        this.chunks = active * chunksPerThread;
        this.failure = null;
        pending.set(chunks);
        for (int i = 0; i < chunks; i++) claimed.set(i, 0); // publishes the fields above to claimers
        generation++;
        for (int i = 0; i < active - 1; i++) LockSupport.unpark(workers[i]);
        claimFrom(0);
        while (pending.get() != 0) Thread.onSpinWait();
        this.task = null;
        Throwable f = failure;
        if (f != null) {
            if (f instanceof RuntimeException re) throw re;
            if (f instanceof Error e) throw e;
            throw new IllegalStateException(f);
        }
    }

    /** Every chunk nobody has claimed, on thread {@code thread}: its own first, then those after them, round to its own. */
    private void claimFrom(int thread) {
        int home = thread * (chunks / active);
        for (int k = 0; k < chunks; k++) tryRun(thread, (home + k) % chunks);
    }

    /** Runs chunk {@code chunk} on thread {@code thread} if nobody has claimed it yet. */
    private void tryRun(int thread, int chunk) {
        if (!claimed.compareAndSet(chunk, 0, 1)) return;
        try {
            int start = chunkStart(chunk), end = chunkStart(chunk + 1);
            if (start < end) task.run(thread, start, end);
        } catch (Throwable t) {
            failure = t;
        } finally {
            pending.decrementAndGet();
        }
    }

    private int chunkStart(int index) {
        int units = (total + grain - 1) / grain;
        int s = (int) ((long) units * index / chunks) * grain;
        return Math.min(s, total);
    }

    private void work(int index) {
        int seen = 0;
        while (true) {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (generation == seen && !closed) {
                if (System.nanoTime() < spinUntil) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            if (closed) return;
            seen = generation;
            if (index < active) claimFrom(index);
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
    }
}
