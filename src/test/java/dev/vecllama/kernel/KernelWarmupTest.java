package dev.vecllama.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

// await() waits for ever for an exercise that never finishes: a broken warm-up fails, not hangs.
@Timeout(30)
class KernelWarmupTest {
    /** Counts its calls; ready() records how many there had been, and when. */
    private static class Counting implements KernelWarmup.Exercise {
        final AtomicInteger calls = new AtomicInteger();
        volatile int callsWhenReady = -1;
        volatile long readyAt;

        @Override
        public void call() {
            calls.incrementAndGet();
        }

        @Override
        public void ready() {
            readyAt = System.nanoTime();
            callsWhenReady = calls.get();
        }
    }

    @Test
    void awaitWaitsForExercisesAndEachRunsOnce() {
        Counting e = new Counting();
        KernelWarmup.start(List.of(), e);
        KernelWarmup.await(List.of());
        assertTrue(e.callsWhenReady >= 100, () -> "ready after " + e.callsWhenReady + " calls");
        int calls = e.calls.get();
        KernelWarmup.start(List.of(), e); // already warm: not exercised again
        KernelWarmup.await(List.of());
        assertEquals(calls, e.calls.get());
    }

    /**
     * A kernel whose calls stay slow (interpreted, say) holds the warm-up for its whole give-up time;
     * the others, warmed in turn with it, are ready long before.
     */
    @Test
    void aSlowKernelDoesNotHoldUpTheOthers() {
        Counting slow = new Counting() {
            @Override
            public void call() {
                super.call();
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        Counting fast = new Counting();
        KernelWarmup.start(List.of(), slow, fast);
        KernelWarmup.await(List.of());
        assertTrue(fast.readyAt < slow.readyAt, "the fast exercise was ready only after the slow one gave up");
        assertTrue(fast.callsWhenReady >= 100 * 200, () -> "fast ready after " + fast.callsWhenReady + " calls");
    }

    /** While anything warms up, the pool leaves a core to the warm-up thread and the compilers; afterwards it uses all. */
    @Test
    void thePoolRunsOneThreadFewerWhileWarming() throws InterruptedException {
        CountDownLatch called = new CountDownLatch(1), release = new CountDownLatch(1);
        Counting held = new Counting() {
            @Override
            public void call() {
                super.call();
                called.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        try (ThreadPool pool = new ThreadPool(2)) {
            List<int[]> chunks = Collections.synchronizedList(new ArrayList<>());
            ThreadPool.RangeTask record = (thread, start, end) -> chunks.add(new int[] {start, end});
            KernelWarmup.start(List.of(), held);
            assertTrue(called.await(10, TimeUnit.SECONDS));
            assertTrue(KernelWarmup.warming());
            pool.parallelFor(8, 1, record);
            assertEquals(1, chunks.size(), "chunks while warming");
            release.countDown();
            KernelWarmup.await(List.of());
            assertTrue(!KernelWarmup.warming());
            chunks.clear();
            pool.parallelFor(8, 1, record);
            assertEquals(2, chunks.size(), "chunks once warm");
        } finally {
            release.countDown();
        }
    }

    /** An exercise that fails is still finished: it is switched to (its ready() runs) and stops counting as warming. */
    @Test
    void aFailingExerciseStillFinishes() throws InterruptedException {
        Counting failing = new Counting() {
            @Override
            public void call() {
                super.call();
                throw new IllegalStateException("exercise failed on purpose");
            }
        };
        KernelWarmup.start(List.of(), failing);
        KernelWarmup.await(List.of());
        long until = System.nanoTime() + 5_000_000_000L;
        while (KernelWarmup.warming() && System.nanoTime() < until) Thread.sleep(1);
        assertEquals(1, failing.callsWhenReady);
        assertTrue(!KernelWarmup.warming(), "still warming after the failure");
    }

    /**
     * Steady but slower than its scalar twin (as C1's code for a vector kernel is) is not ready, even
     * past the give-up time: only once the calls beat the twin's. Here calls take a millisecond
     * for 2 s, then nothing; the twin takes 0.1 ms.
     */
    @Test
    void aSteadyKernelSlowerThanItsReferenceIsNotReady() {
        long fastFrom = System.nanoTime() + 2_000_000_000L;
        Counting slowThenFast = new Counting() {
            @Override
            public void call() {
                super.call();
                if (System.nanoTime() < fastFrom) spin(1_000_000);
            }

            @Override
            public Runnable reference() {
                return () -> spin(100_000);
            }
        };
        KernelWarmup.start(List.of(), slowThenFast);
        KernelWarmup.await(List.of());
        assertTrue(slowThenFast.readyAt > fastFrom, () -> "ready " + (fastFrom - slowThenFast.readyAt) / 1_000_000 + " ms before its calls beat the reference");
    }

    /**
     * A lane kernel compiled but no faster than its reference, a matvec per token that beat its own
     * scalar twin (as Q6_K's does on a few 256-wide rows): finished after 100 batches or at twice
     * the give-up time (3 s), not held until four times it (6 s). Near a matvec that never beat its
     * twin (perhaps still C1's), it is held.
     */
    @Test
    void aSteadyKernelNearItsWarmReferenceFinishesEarly() {
        assertTrue(warmedNearReference(true) < 4000, "near a matvec that beat its twin");
        assertTrue(warmedNearReference(false) >= 5500, "near a matvec that never beat its twin");
    }

    /** Milliseconds until a lane-like item 1.5 times slower than its reference finishes. */
    private static long warmedNearReference(boolean referenceBeatItsTwin) {
        KernelWarmup.Warming matvec = new KernelWarmup.Warming(1, () -> {}, null, null, () -> {}, null);
        // A finished warm-up's record: its best batch against its reference's.
        matvec.best = referenceBeatItsTwin ? 1 : 3;
        matvec.referenceBest = 2;
        long start = System.nanoTime();
        long[] doneAt = new long[1];
        KernelWarmup.Warming w = new KernelWarmup.Warming(200, () -> spin(150_000), () -> spin(100_000), matvec,
                () -> doneAt[0] = System.nanoTime(), null);
        KernelWarmup.untilAllFast(List.of(w), false);
        return (doneAt[0] - start) / 1_000_000;
    }

    private static void spin(long nanos) {
        long until = System.nanoTime() + nanos;
        while (System.nanoTime() < until) Thread.onSpinWait();
    }
}
