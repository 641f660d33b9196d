package dev.vecllama.kernel;

import dev.vecllama.activation.Activation;
import dev.vecllama.quant.LaneKernel;
import dev.vecllama.quant.TokenLanes;
import dev.vecllama.quant.WeightFormat;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

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
     * A kernel that is not fast after this long is used as it is once its speed has settled faster
     * than its reference (lanes: near their compiled matvec, after twice this long at most), or
     * after four times this long in any case. The warm-up thread competes with the model's own
     * threads for the cores, so it must not linger.
     */
    private static final long GIVE_UP_NANOS = 1_500_000_000L;
    /** Weights per timed call: a few rows of a model's matrix. */
    private static final int WEIGHTS = 8 * 512;
    /**
     * Rows per timed call at least: Q4_K's decode kernel takes 8 rows at a time and the rest one by
     * one, and a path first taken after the warm-up would be compiled too late, or never.
     */
    private static final int MIN_ROWS = 9;
    /** Calls timed together: one preempted call then moves a batch by a fraction, not the verdict. */
    private static final int BATCH = 200;
    /** The longest turn an item gets before the next one's, unless its one call takes longer. */
    private static final long TURN_NANOS = 5_000_000L;

    /** Kernels and exercises whose warm-up has started and not finished. */
    private static final AtomicInteger WARMING = new AtomicInteger();

    /** Whether some kernel or exercise is still being warmed up (in the background thread {@link #start} began). */
    public static boolean warming() {
        return WARMING.get() > 0;
    }

    /** Whether {@code f}'s vector path has been compiled (or waited for long enough). */
    public static boolean ready(WeightFormat f) {
        return READY.contains(f);
    }

    /** Whether {@code f}'s {@link LaneKernel} has been compiled (or waited for long enough); false for formats without one. */
    public static boolean lanesReady(WeightFormat f) {
        return LANES_READY.contains(f);
    }

    /**
     * Vector code outside the weight formats (attention, SwiGLU, the activation quantizers) that runs its scalar twin until the
     * warm-up thread has exercised it. Implementations are singletons: each is warmed once per JVM.
     */
    public interface Exercise {
        /** One call of the vector code, on scratch data. */
        void call();

        /** The calls have become fast (or the warm-up gave up on them): switch to the vector code. */
        void ready();

        /**
         * The same work by the scalar twin, or null: when given, the calls count as fast only once
         * they beat it (see {@link Warming}).
         */
        default Runnable reference() {
            return null;
        }
    }

    /**
     * An exercise for code that chooses between its vector path and its scalar twin (the same
     * floats) by a flag: {@link #on} once the warm-up has made the vector path fast.
     */
    public abstract static class Switch implements Exercise {
        private volatile boolean on;

        /** Whether the vector path is ready. */
        public final boolean on() {
            return on;
        }

        @Override
        public final void ready() {
            on = true;
        }
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
        List<Warming> first = new ArrayList<>(), later = new ArrayList<>();
        List<Warming> dots = todo.stream().map(KernelWarmup::dot).toList();
        first.addAll(dots);
        for (Exercise e : extra) later.add(new Warming(BATCH, e::call, e.reference(), null, () -> {
            e.ready();
            EXERCISES_PENDING.remove(e);
        }, null));
        for (int i = 0; i < todo.size(); i++) if (todo.get(i).format instanceof LaneKernel) later.add(lanes(todo.get(i), dots.get(i)));
        WARMING.addAndGet(first.size() + later.size());
        // Every format's dot in turn, a turn each, so that C2 is asked for all of them at once (one
        // after another, the last of a tiny model's kernels was ready after 5 s, three times as
        // long); then the exercises, whose scalar twins cost a token far less than the formats'
        // references do, and the lanes, which only prompts of 16 tokens or more use. Warmed with
        // the dots, the exercises' own compiles, and those of the Vector API methods their early
        // calls run, had delayed the dots' by a second.
        // A failure here is not the user's: the kernels are switched to all the same, and the one
        // line names it (a real call that fails the same way reports it where it happens).
        Thread.UncaughtExceptionHandler oneLine = (t, e) -> System.err.println("vecllama: kernel warm-up stopped: " + e);
        Thread.ofPlatform().daemon().name("vecllama-warmup").uncaughtExceptionHandler(oneLine).start(() -> {
            // Even after a failure every item must finish: while one is counted, the pool runs a thread short.
            try {
                untilAllFast(first, true);
            } finally {
                untilAllFast(later, true);
            }
        });
    }

    /** Warms {@code m}'s format up in the calling thread; for benchmarks and tests that want the vector path at once. */
    public static void warmNow(WeightMatrix m) {
        STARTED.add(m.format);
        Warming dot = dot(m);
        untilAllFast(List.of(dot), false);
        if (m.format instanceof LaneKernel) untilAllFast(List.of(lanes(m, dot)), false);
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

    private static Warming dot(WeightMatrix m) {
        WeightFormat f = m.format;
        int rows = rows(m);
        Activation a = activation(m, false);
        float[] out = new float[rows];
        return new Warming(BATCH, () -> f.matvec(m.data, m.rowBytes, m.cols, a, out, 0, rows),
                () -> f.matvecReference(m.data, m.rowBytes, m.cols, a, out, 0, rows), null, () -> READY.add(f), m);
    }

    /** The lanes of {@code m}'s format, whose dot was warmed as {@code dot} (finished before these start). */
    private static Warming lanes(WeightMatrix m, Warming dot) {
        LaneKernel k = (LaneKernel) m.format;
        int rows = rows(m);
        // Three groups of tokens: the kernels that take two groups at a time (Q8_0, Q4_0, Q6_K) then
        // warm both their paths, the pair and the lone group at an odd end.
        Activation[] batch = new Activation[3 * TokenLanes.WIDTH];
        Arrays.fill(batch, activation(m, true));
        TokenLanes lanes = new TokenLanes();
        lanes.fill(batch, 0, batch.length, !k.readsPairs(), k.readsPairs());
        float[][] results = new float[batch.length][rows];
        // The lanes are timed against what a batch's tokens would otherwise take, a matvec each, as
        // the dots were warmed (a batch's 4-row groups take another order, Q4_K's dotQuad, not
        // compiled yet: timed in C1, a cold reference is beaten by lanes in C1 too). Near it is
        // enough (see Warming); on a few rows of a small model's matrix, with the set-up per call, the
        // lanes of some formats are no faster, though they are on the model's whole matrices.
        Activation single = activation(m, false);
        Runnable perToken = () -> {
            for (int t = 0; t < batch.length; t++) m.format.matvec(m.data, m.rowBytes, m.cols, single, results[t], 0, rows);
        };
        return new Warming(Math.max(1, BATCH / batch.length), () -> k.matmul(m.data, m.rowBytes, m.cols, lanes, results, 0, rows),
                perToken, dot, () -> LANES_READY.add(m.format), m);
    }

    private static int rows(WeightMatrix m) {
        return Math.min(m.rows, Math.max(WEIGHTS / m.cols, MIN_ROWS));
    }

    private static Activation activation(WeightMatrix m, boolean quad) {
        Activation a = new Activation(m.cols);
        for (int i = 0; i < m.cols; i++) a.f[i] = (float) Math.sin(i);
        return a.prepare(m.format.activationKind(), quad, true);
    }

    /**
     * Gives each unfinished item a turn in turn until each has had enough calls for C2 to compile it
     * (100 batches) and its last 5 turns all ran within 1.5x of its fastest (per call), faster than
     * its reference, or {@link #GIVE_UP_NANOS} has passed since it started and its speed has settled
     * there (for lanes: near their reference, see {@link Warming}); each item's {@code done} runs
     * when it finishes, or fails.
     */
    static void untilAllFast(List<Warming> items, boolean counted) {
        List<Warming> pending = new ArrayList<>(items);
        try {
            while (!pending.isEmpty()) {
                for (Iterator<Warming> it = pending.iterator(); it.hasNext(); ) {
                    Warming w = it.next();
                    if (w.step()) {
                        it.remove();
                        finish(w, counted);
                    }
                }
            }
        } finally {
            for (Warming w : pending) finish(w, counted);
        }
    }

    /** {@code counted}: the item is one of {@link #WARMING}'s. */
    private static void finish(Warming w, boolean counted) {
        try {
            w.done.run();
        } finally {
            if (counted) WARMING.decrementAndGet();
        }
    }

    /**
     * One kernel being warmed: its calls, how fast they have been, and what to do when they are fast.
     * Settled speed alone does not say compiled: C1's code for a vector kernel is as steady as C2's,
     * and 20 times slower. A kernel given up on in C1 was then called too rarely (a prompt's output
     * projection: once) for its C2 compile ever to be asked for again, or it was asked for and
     * dropped from C2's queue, crowded by the Vector API's own methods, as stale. So where the scalar twin is
     * known, the calls count as fast only once a batch of them beats a batch of the twin's, timed
     * every fourth turn. A lane kernel's reference is its format's matvec; if that was warmed past its
     * own twin, steady within twice its time after 100 batches or twice the give-up time, the lanes are
     * compiled (in C1 they would be many times slower), and finished. (A scalar twin may itself be in
     * C1 still: near it says nothing.)
     */
    static final class Warming {
        final int batch;
        final Runnable call, reference;
        /**
         * For lanes, their matvec's own warm-up: if that beat its scalar twin, the matvec is C2's
         * code, and steady near it means compiled and no faster. (Given up on at the 6 s cap, it may
         * be C1's, and near it says nothing.) Null for the others.
         */
        final Warming referenceWarming;
        final Runnable done;
        /** The model matrix the calls read, or null for an exercise on scratch data. */
        final WeightMatrix matrix;
        /** When its first turn began: the give-up clock runs from there. */
        long start, best = Long.MAX_VALUE, calls, referenceBest = Long.MAX_VALUE;
        int fastInARow, steadyInARow, turns;

        Warming(int batch, Runnable call, Runnable reference, Warming referenceWarming, Runnable done, WeightMatrix matrix) {
            this.batch = batch;
            this.call = call;
            this.reference = reference;
            this.referenceWarming = referenceWarming;
            this.done = done;
            this.matrix = matrix;
        }

        /** One turn; true when this item is finished. */
        boolean step() {
            long t0 = System.nanoTime();
            if (calls == 0) start = t0;
            long perBatch;
            try {
                if (reference != null && turns++ % 4 == 0) referenceBest = Math.min(referenceBest, perBatch(reference, new int[1]));
                int[] n = new int[1];
                perBatch = perBatch(call, n);
                calls += n[0];
            } catch (IllegalStateException e) {
                // A model closed (its file unmapped) before its kernels were warm leaves nothing to do.
                if (matrix == null || matrix.data.scope().isAlive()) throw e;
                return true;
            }
            best = Math.min(best, perBatch);
            boolean steady = 2 * perBatch <= 3 * best;
            steadyInARow = steady ? steadyInARow + 1 : 0;
            fastInARow = steady && best < referenceBest ? fastInARow + 1 : 0;
            // Past the give-up time an item still speeding up, or never faster than its reference, is
            // given up on only at four times it:
            // warmed in turns, kernels were switched to while still interpreted, and a tiny model's
            // first 200 tokens took 3.2-3.5 s instead of 2.8-3.2 s.
            long warmed = t0 - start;
            // Not until its whole C2 compile is likely through (the lanes' unpacking is compiled on its
            // own: while it lagged, a tiny TQ1_0 model's lanes ran at half speed, steadily).
            boolean noFaster = referenceWarming != null && referenceWarming.beatReference() && steadyInARow >= 5 && best / 2 < referenceBest
                    && (calls >= 100L * batch || warmed > 2 * GIVE_UP_NANOS);
            return (fastInARow >= 5 && (calls >= 100L * batch || warmed > GIVE_UP_NANOS)) || noFaster || warmed > 4 * GIVE_UP_NANOS;
        }

        /** Whether its fastest batch beat its reference's (true without one): once finished, whether it ended fast. */
        boolean beatReference() {
            return best < referenceBest;
        }

        /**
         * Runs a batch of {@code r}, or fewer when they are slow (interpreted, a batch of attention
         * calls took over a second), so that no item holds up the others' turns; returns the time a
         * whole batch takes at that rate, the calls made in {@code n[0]}.
         */
        private long perBatch(Runnable r, int[] n) {
            long t0 = System.nanoTime(), t;
            do {
                r.run();
                n[0]++;
                t = System.nanoTime() - t0;
            } while (n[0] < batch && t < TURN_NANOS);
            return t * batch / n[0];
        }
    }
}
