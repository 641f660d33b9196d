package dev.vecllama.kernel;

import dev.vecllama.activation.Activation;
import dev.vecllama.quant.WeightFormat;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Vector API code is slow until the JIT's top tier has compiled it: interpreted or in C1, every
 * vector operation is an object. A model's first forward pass would spend seconds there, so it runs
 * the formats' scalar references (bit-identical to the vector paths, and quick to compile) while
 * this class exercises each vector kernel on a small matrix in a background thread, and switches a
 * format to its vector path once calls have become fast and stayed fast.
 */
public final class KernelWarmup {
    private KernelWarmup() {}

    private static final Set<WeightFormat> READY = ConcurrentHashMap.newKeySet();
    private static final Set<WeightFormat> STARTED = ConcurrentHashMap.newKeySet();
    /**
     * A kernel that is not fast after this long is used as it is. The warm-up thread competes with
     * the model's own threads for the cores (all of them by default), so it must not linger.
     */
    private static final long GIVE_UP_NANOS = 1_500_000_000L;
    private static final int ROWS = 8, COLS = 512;
    /** Calls timed together: one preempted call then moves a batch by a fraction, not the verdict. */
    private static final int BATCH = 200;

    /** Whether {@code f}'s vector path has been compiled (or waited for long enough). */
    public static boolean ready(WeightFormat f) {
        return READY.contains(f);
    }

    /** Starts warming up the formats that are not warm or warming already; returns at once. */
    public static void start(Collection<WeightFormat> formats) {
        var todo = formats.stream().filter(STARTED::add).toList();
        if (todo.isEmpty()) return;
        Thread.ofPlatform().daemon().name("vecllama-warmup").start(() -> {
            for (WeightFormat f : todo) warm(f);
        });
    }

    /** Warms {@code f} up in the calling thread; for benchmarks and tests that want the vector path at once. */
    public static void warmNow(WeightFormat f) {
        STARTED.add(f);
        warm(f);
    }

    /** Waits until every one of {@code formats} is ready (warming those nobody has started): a benchmark measures the steady state. */
    public static void await(Collection<WeightFormat> formats) {
        start(formats);
        while (!READY.containsAll(formats)) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void warm(WeightFormat f) {
        try (Arena arena = Arena.ofConfined()) {
            long rowBytes = f.rowBytes(COLS);
            MemorySegment w = arena.allocate(rowBytes * ROWS, 64);
            Activation a = new Activation(COLS);
            for (int i = 0; i < COLS; i++) a.f[i] = (float) Math.sin(i);
            a.prepare(f.activationKind());
            float[] out = new float[ROWS];
            long start = System.nanoTime(), best = Long.MAX_VALUE;
            int batches = 0, fastInARow = 0;
            // Ready: enough calls for C2 to have compiled the kernel, and the last 5 batches all
            // within 1.5x of the fastest batch seen.
            while (fastInARow < 5 || batches < 100) {
                long t0 = System.nanoTime();
                for (int i = 0; i < BATCH; i++) f.matvec(w, rowBytes, COLS, a, out, 0, ROWS);
                long t = System.nanoTime() - t0;
                best = Math.min(best, t);
                fastInARow = 2 * t <= 3 * best ? fastInARow + 1 : 0;
                batches++;
                if (t0 - start > GIVE_UP_NANOS) break;
            }
        } finally {
            READY.add(f);
        }
    }
}
