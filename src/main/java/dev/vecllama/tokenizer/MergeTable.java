package dev.vecllama.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The ranked merges of a byte-level BPE vocabulary ({@code tokenizer.ggml.merges}, "left right", best first),
 * keyed by the pair of symbol ids packed in a long, in an open-addressing table (≈280k merges for Llama 3).
 * A symbol id is the token id when the symbol is a token; the rare merge part or result that is not a token
 * gets an id past the vocabulary, so merging behaves exactly as llama.cpp's string-keyed table. The symbol a
 * merge makes is looked up the first time the merge is used: most of the table never is, and this saves
 * about a third of the load time. Safe to share between threads.
 */
final class MergeTable {
    private final Vocabulary vocab;
    private final Map<String, Integer> extraIds = new HashMap<>();
    private final List<String> extraTexts = new ArrayList<>();
    private final long[] keys;
    private final int[] ranks;
    private final int[] results;
    private final int mask;

    MergeTable(Vocabulary vocab, String[] merges) {
        this.vocab = vocab;
        int cap = Integer.highestOneBit(Math.max(2, merges.length) * 2); // at most half full
        keys = new long[cap];
        ranks = new int[cap];
        Arrays.fill(ranks, -1);
        mask = cap - 1;
        results = new int[merges.length];
        Arrays.fill(results, -1);
        for (int rank = 0; rank < merges.length; rank++) {
            String m = merges[rank];
            int space = m.indexOf(' ', 1); // a part may itself be a space, so look from the second character
            if (space < 0) continue; // llama.cpp files it under ("", ""), which no symbol ever is
            long key = pack(symbolId(m, 0, space), symbolId(m, space + 1, m.length()));
            int slot = slot(key);
            if (ranks[slot] >= 0) continue; // a repeated pair keeps its first (best) rank
            keys[slot] = key;
            ranks[slot] = rank;
        }
    }

    /** The id of a symbol text, given one past the vocabulary if it is not a token. */
    int symbolId(String text) {
        return symbolId(text, 0, text.length());
    }

    /** {@link #symbolId(String)} of {@code s[from, to)}. */
    private int symbolId(String s, int from, int to) {
        int id = vocab.id(s, from, to);
        return id >= 0 ? id : extraId(s.substring(from, to));
    }

    private synchronized int extraId(String text) {
        return extraIds.computeIfAbsent(text, t -> {
            extraTexts.add(t);
            return vocab.size() + extraTexts.size() - 1;
        });
    }

    /** The text of any symbol id. */
    String text(int id) {
        if (id < vocab.size()) return vocab.text(id);
        synchronized (this) {
            return extraTexts.get(id - vocab.size());
        }
    }

    /** The rank of merging these two symbols, or -1 if they do not merge. */
    int rank(int left, int right) {
        return ranks[slot(pack(left, right))];
    }

    /** The symbol that merging {@code left} and {@code right}, whose merge has this rank, makes. */
    int result(int rank, int left, int right) {
        int r = results[rank];
        if (r < 0) {
            r = symbolId(text(left) + text(right));
            results[rank] = r; // racing threads store the same value
        }
        return r;
    }

    private static long pack(int left, int right) {
        return (long) left << 32 | (right & 0xFFFFFFFFL);
    }

    /** The slot holding {@code key}, or the empty slot where it would go. */
    private int slot(long key) {
        int h = Long.hashCode(key * 0x9E3779B97F4A7C15L);
        int i = (h ^ (h >>> 16)) & mask;
        while (ranks[i] >= 0 && keys[i] != key) i = (i + 1) & mask;
        return i;
    }
}
