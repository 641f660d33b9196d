package dev.vecllama.tokenizer;

import java.util.PriorityQueue;

/**
 * The merge loop both tokenizers share (llama.cpp's SPM and BPE sessions): the symbols of one word form a
 * linked list, every mergeable pair of neighbours waits in a priority queue, and the best pair is merged (the
 * right symbol into the left) until no pair is left. Ties go to the leftmost pair. A queued pair whose symbols
 * have changed since is skipped when it comes up. O(n log n) in the number of symbols.
 */
abstract class PairMerger {
    /** What {@link #priority} returns for a pair that cannot merge. */
    static final long NO_MERGE = Long.MIN_VALUE;

    private record Candidate(long key, int left, int right, int size) implements Comparable<Candidate> {
        @Override
        public int compareTo(Candidate o) {
            return Long.compare(key, o.key);
        }
    }

    /** Symbol i covers units [start[i], start[i] + len[i]) of the word; len is 0 once merged away. */
    final int[] start;
    final int[] len;
    private final int[] prev;
    private final int[] next;

    PairMerger(int[] start, int[] len) {
        this.start = start;
        this.len = len;
        int n = start.length;
        prev = new int[n];
        next = new int[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
    }

    /** The rank of merging these neighbours, smaller first, within int range; or {@link #NO_MERGE}. */
    abstract long priority(int left, int right);

    /** Called right after {@code right} was merged into {@code left} with the given priority. */
    void merged(int left, int right, int priority) {
    }

    final void run() {
        PriorityQueue<Candidate> queue = new PriorityQueue<>();
        for (int i = 1; i < start.length; i++) offer(queue, i - 1, i);
        while (!queue.isEmpty()) {
            Candidate c = queue.poll();
            int l = c.left(), r = c.right();
            if (len[l] == 0 || len[r] == 0 || len[l] + len[r] != c.size()) continue; // stale
            len[l] += len[r];
            len[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) prev[next[r]] = l;
            merged(l, r, (int) (c.key() >> 32));
            offer(queue, prev[l], l);
            offer(queue, l, next[l]);
        }
    }

    private void offer(PriorityQueue<Candidate> queue, int left, int right) {
        if (left < 0 || right < 0) return;
        long p = priority(left, right);
        if (p != NO_MERGE) queue.add(new Candidate(p << 32 | left, left, right, len[left] + len[right]));
    }

    /** The surviving symbols in order: index 0 is always first, since merges keep the left index. */
    final int first() {
        return start.length == 0 ? -1 : 0;
    }

    final int next(int i) {
        return next[i];
    }
}
