package dev.vecllama.server;

import dev.vecllama.chat.CachedSequence;
import dev.vecllama.model.Llama;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Semaphore;

/**
 * The server's slots, each a KV cache of its own, and a bounded queue of requests waiting for one.
 * A request that finds the slots and the queue full is turned away at once.
 */
final class SlotPool {
    private final int slots;
    private final int admissions;
    private final int contextSize;
    private final BlockingQueue<CachedSequence> free;
    private final Semaphore admitted;

    SlotPool(Llama llama, int slots, int queue, int contextSize, int batchSize) {
        this.slots = slots;
        this.free = new ArrayBlockingQueue<>(slots);
        for (int i = 0; i < slots; i++) free.add(new CachedSequence(llama.newState(contextSize, batchSize, false)));
        this.contextSize = contextSize;
        this.admissions = slots + queue;
        this.admitted = new Semaphore(admissions);
    }

    /** A free slot, after waiting in the queue if need be; {@link ApiError#busy()} if the queue is full. */
    CachedSequence acquire() {
        if (!admitted.tryAcquire()) throw ApiError.busy();
        try {
            return free.take();
        } catch (InterruptedException e) {
            admitted.release();
            Thread.currentThread().interrupt();
            throw ApiError.busy();
        }
    }

    void release(CachedSequence slot) {
        free.add(slot);
        admitted.release();
    }

    /** Positions in each slot's cache. */
    int contextSize() {
        return contextSize;
    }

    int idle() {
        return free.size();
    }

    int processing() {
        return slots - free.size();
    }

    /** Requests admitted but waiting for a slot. */
    int waiting() {
        return Math.max(0, admissions - admitted.availablePermits() - processing());
    }
}
