package dev.vecllama.kernel;

import dev.vecllama.activation.Activation;
import dev.vecllama.quant.LaneKernel;
import dev.vecllama.quant.TokenLanes;
import dev.vecllama.quant.WeightFormat;
import java.util.Arrays;
import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Vector API code is slow until the JIT's top tier has compiled it: interpreted or in C1, every
 * vector operation is an object. A model's first forward pass would spend seconds there, so it runs
 * the formats' scalar references (bit-identical to the vector paths, and quick to compile) while
 * this class exercises each vector kernel in a background thread, and switches a format to its
 * vector path once calls have become fast and stayed fast.
 *
 * <p>The kernels are exercised on the model's own matrices, not on scratch memory: C2 compiles for
 * the memory-segment class it has seen, and a kernel warmed on heap-allocated native memory then fed
 * a mapped file traps, deoptimizes and can stay in a slow tier for the rest of the run (a Q4_0 model
 * decoded at a twentieth of its speed in one run of three that way).
 */
public final class KernelWarmup {
    private KernelWarmup() {}

    private static final Set<WeightFormat> READY = ConcurrentHashMap.newKeySet();
    private static final Set<WeightFormat> LANES_READY = ConcurrentHashMap.newKeySet();
    private static final Set<WeightFormat> STARTED = ConcurrentHashMap.newKeySet();
    /**
     * A kernel that is not fast after this long is used as it is. The warm-up thread competes with
     * the model's own threads for the cores (all of them by default), so it must not linger.
     */
    private static final long GIVE_UP_NANOS = 1_500_000_000L;
    /** Weights per timed call: a few rows of a model's matrix. */
    private static final int WEIGHTS = 8 * 512;
    /** Calls timed together: one preempted call then moves a batch by a fraction, not the verdict. */
    private static final int BATCH = 200;

    /** Whether {@code f}'s vector path has been compiled (or waited for long enough). */
    public static boolean ready(WeightFormat f) {
        return READY.contains(f);
    }

    /** Whether {@code f}'s {@link LaneKernel} has been compiled (or waited for long enough); false for formats without one. */
    public static boolean lanesReady(WeightFormat f) {
        return LANES_READY.contains(f);
    }

    /**
     * Vector code outside the weight formats (decode attention) that runs its scalar twin until the
     * warm-up thread has exercised it. Implementations are singletons: each is warmed once per JVM.
     */
    public interface Exercise {
        /** One call of the vector code, on scratch data. */
        void call();

        /** The calls have become fast (or the warm-up gave up on them): switch to the vector code. */
        void ready();
    }

    private static final Set<Exercise> EXERCISES_STARTED = ConcurrentHashMap.newKeySet();
    private static final Set<Exercise> EXERCISES_PENDING = ConcurrentHashMap.newKeySet();

    /**
     * Starts warming up the formats of {@code samples} (one matrix per format), and {@code exercises},
     * that are not warm or warming already; returns at once.
     */
    public static void start(Collection<WeightMatrix> samples, Exercise... exercises) {
        var todo = samples.stream().filter(m -> STARTED.add(m.format)).toList();
        var extra = Arrays.stream(exercises).filter(EXERCISES_STARTED::add).toList();
        if (todo.isEmpty() && extra.isEmpty()) return;
        EXERCISES_PENDING.addAll(extra);
        // Every format's dot first, then the rest of a token's vector code: the first tokens wait for
        // those; prompts of 16 tokens or more for the lanes.
        Thread.ofPlatform().daemon().name("vecllama-warmup").start(() -> {
            for (WeightMatrix m : todo) warmDot(m);
            for (Exercise e : extra) {
                try {
                    untilFast(BATCH, e::call);
                } finally {
                    e.ready();
                    EXERCISES_PENDING.remove(e);
                }
            }
            for (WeightMatrix m : todo) warmLanes(m);
        });
    }

    /** Warms {@code m}'s format up in the calling thread; for benchmarks and tests that want the vector path at once. */
    public static void warmNow(WeightMatrix m) {
        STARTED.add(m.format);
        warmDot(m);
        warmLanes(m);
    }

    /**
     * Waits until the format of every one of {@code samples} is ready (warming those nobody has
     * started), and every exercise started so far: a benchmark measures the steady state.
     */
    public static void await(Collection<WeightMatrix> samples) {
        start(samples);
        while (!EXERCISES_PENDING.isEmpty()
                || !samples.stream().allMatch(m -> READY.contains(m.format) && (!(m.format instanceof LaneKernel) || LANES_READY.contains(m.format)))) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void warmDot(WeightMatrix m) {
        WeightFormat f = m.format;
        try {
            int rows = rows(m);
            Activation a = activation(m, false);
            float[] out = new float[rows];
            untilFast(BATCH, () -> f.matvec(m.data, m.rowBytes, m.cols, a, out, 0, rows));
        } catch (IllegalStateException e) {
            closedOrRethrow(m, e);
        } finally {
            READY.add(f);
        }
    }

    private static void warmLanes(WeightMatrix m) {
        if (!(m.format instanceof LaneKernel k)) return;
        try {
            int rows = rows(m);
            Activation[] group = new Activation[TokenLanes.WIDTH];
            Arrays.fill(group, activation(m, true));
            TokenLanes lanes = new TokenLanes();
            lanes.fill(group, 0, group.length);
            float[][] results = new float[group.length][rows];
            untilFast(Math.max(1, BATCH / group.length), () -> k.matmul(m.data, m.rowBytes, m.cols, lanes, results, 0, rows));
        } catch (IllegalStateException e) {
            closedOrRethrow(m, e);
        } finally {
            LANES_READY.add(m.format);
        }
    }

    private static int rows(WeightMatrix m) {
        return Math.clamp(WEIGHTS / m.cols, 1, m.rows);
    }

    private static Activation activation(WeightMatrix m, boolean quad) {
        Activation a = new Activation(m.cols);
        for (int i = 0; i < m.cols; i++) a.f[i] = (float) Math.sin(i);
        return a.prepare(m.format.activationKind(), quad);
    }

    /** A model closed (its file unmapped) before its kernels were warm leaves nothing to do. */
    private static void closedOrRethrow(WeightMatrix m, IllegalStateException e) {
        if (m.data.scope().isAlive()) throw e;
    }

    /**
     * Calls {@code call} in batches until C2 has had enough calls to compile it and the last 5 batches
     * were all within 1.5x of the fastest seen, or {@link #GIVE_UP_NANOS} has passed.
     */
    private static void untilFast(int batch, Runnable call) {
        long start = System.nanoTime(), best = Long.MAX_VALUE;
        int batches = 0, fastInARow = 0;
        while (fastInARow < 5 || batches < 100) {
            long t0 = System.nanoTime();
            for (int i = 0; i < batch; i++) call.run();
            long t = System.nanoTime() - t0;
            best = Math.min(best, t);
            fastInARow = 2 * t <= 3 * best ? fastInARow + 1 : 0;
            batches++;
            if (t0 - start > GIVE_UP_NANOS) break;
        }
    }
}
