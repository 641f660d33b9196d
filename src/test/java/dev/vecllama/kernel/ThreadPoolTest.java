package dev.vecllama.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ThreadPoolTest {
    @Test
    void everyUnitRunsOnceInGrainAlignedChunks() {
        try (ThreadPool pool = new ThreadPool(3)) {
            for (int perThread = 1; perThread <= ThreadPool.MAX_CHUNKS_PER_THREAD; perThread++) {
                for (int n : new int[] {1, 7, 8, 9, 24, 100, 2560, 32001}) {
                    AtomicIntegerArray runs = new AtomicIntegerArray(n);
                    List<int[]> chunks = new CopyOnWriteArrayList<>();
                    pool.parallelFor(n, 8, perThread, (thread, start, end) -> {
                        chunks.add(new int[] {thread, start, end});
                        for (int i = start; i < end; i++) runs.incrementAndGet(i);
                    });
                    for (int i = 0; i < n; i++) assertEquals(1, runs.get(i), "unit " + i + " of " + n + ", " + perThread + " chunks per thread");
                    for (int[] c : chunks) {
                        assertTrue(c[1] % 8 == 0 && (c[2] % 8 == 0 || c[2] == n), "chunk " + c[1] + ".." + c[2] + " of " + n + " off the grain");
                        assertTrue(c[0] >= 0 && c[0] < 3, "thread " + c[0]);
                    }
                    if (n >= 8 * 3 * perThread) assertEquals(3 * perThread, chunks.size(), "chunks of " + n + " for " + perThread + " per thread");
                    else assertTrue(chunks.size() <= 3 * perThread, chunks.size() + " chunks for " + perThread + " per thread");
                }
            }
        }
    }

    /**
     * A worker done with its chunk may still be walking the job's other chunks when the caller,
     * seeing the job done, sets up the next one. Only chunks the next job has reset may be claimed
     * then: a claim of one it has not yet reset would run it twice and leave the caller waiting for
     * ever. The window is widest in a fresh pool, whose next job has more chunks than any before.
     */
    @Test
    void aWorkerStillWalkingTheLastJobClaimsNothingOfTheNextTwice() throws InterruptedException {
        AtomicInteger doubles = new AtomicInteger();
        Thread stress = Thread.ofPlatform().daemon().start(() -> {
            for (int round = 0; round < 4000; round++) {
                try (ThreadPool pool = new ThreadPool(3)) {
                    for (int perThread = 1; perThread <= ThreadPool.MAX_CHUNKS_PER_THREAD; perThread += ThreadPool.MAX_CHUNKS_PER_THREAD - 1) {
                        AtomicIntegerArray runs = new AtomicIntegerArray(96);
                        pool.parallelFor(96, 8, perThread, (thread, start, end) -> {
                            for (int i = start; i < end; i++) if (runs.incrementAndGet(i) > 1) doubles.incrementAndGet();
                        });
                    }
                }
            }
        });
        stress.join(60_000);
        assertFalse(stress.isAlive(), "a job never finished: " + doubles.get() + " units ran twice");
        assertEquals(0, doubles.get(), "units that ran twice");
    }

    @Test
    void aTaskFailureReachesTheCaller() {
        try (ThreadPool pool = new ThreadPool(2)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.parallelFor(64, 8, 4, (thread, start, end) -> {
                if (start <= 40 && 40 < end) throw new IllegalStateException("unit 40");
            }));
            assertEquals("unit 40", e.getMessage());
            // The pool still works after a failed job.
            AtomicIntegerArray runs = new AtomicIntegerArray(64);
            pool.parallelFor(64, 8, 4, (thread, start, end) -> {
                for (int i = start; i < end; i++) runs.incrementAndGet(i);
            });
            for (int i = 0; i < 64; i++) assertEquals(1, runs.get(i));
        }
    }

    @Test
    void chunksPerThreadOutOfRangeIsRefused() {
        try (ThreadPool pool = new ThreadPool(2)) {
            assertThrows(IllegalArgumentException.class, () -> pool.parallelFor(64, 8, 0, (thread, start, end) -> {}));
            assertThrows(IllegalArgumentException.class, () -> pool.parallelFor(64, 8, ThreadPool.MAX_CHUNKS_PER_THREAD + 1, (thread, start, end) -> {}));
        }
    }
}
