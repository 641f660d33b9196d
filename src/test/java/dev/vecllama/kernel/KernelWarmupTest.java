package dev.vecllama.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class KernelWarmupTest {
    /** Counts its calls; ready() records how many there had been. */
    private static final class Counting implements KernelWarmup.Exercise {
        final AtomicInteger calls = new AtomicInteger();
        volatile int callsWhenReady = -1;

        @Override
        public void call() {
            calls.incrementAndGet();
        }

        @Override
        public void ready() {
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
}
