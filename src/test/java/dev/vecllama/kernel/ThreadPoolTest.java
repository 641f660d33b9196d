package dev.vecllama.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
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
