package dev.vecllama.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The ranked merges of a byte-level BPE vocabulary ({@code tokenizer.ggml.merges}, "left right", best first),
 * indexed by each merge's own text (≈280k merges for Llama 3). Indexed so, building the table only hashes
 * strings the file already holds: keyed by the pair of their parts' ids, it looked up two parts per merge,
 * 327 ms of rand-llama3-Q8_0's 1.85 s to its first token (largely in C1, while C2 was busy with the
 * warm-up's kernels), now 101 ms. A lookup joins the two parts' texts and checks that the merge splits
 * there, so a pair matches exactly the merges llama.cpp's table of (left, right) strings files under it.
 * A symbol id is the token id when the symbol is a token; the rare symbol that is not a token gets an id
 * past the vocabulary. The symbol a merge makes is looked up the first time the merge is used. Safe to
 * share between threads.
 */
final class MergeTable {
    private final Vocabulary vocab;
    private final String[] merges;
    private final Map<String, Integer> extraIds = new HashMap<>();
    private final List<String> extraTexts = new ArrayList<>();
    /** Rank by text: a repeated merge keeps its first (best) rank. */
    private final StringIndex ranks;
    private final int[] results;

    MergeTable(Vocabulary vocab, String[] merges) {
        this.vocab = vocab;
        this.merges = merges;
        ranks = new StringIndex(merges);
        results = new int[merges.length];
        Arrays.fill(results, -1);
        for (int rank = 0; rank < merges.length; rank++) {
            // llama.cpp files a merge without a separating space under ("", ""), which no symbol ever is;
            // a part may itself be a space, so the separator is looked for from the second character.
            if (merges[rank].indexOf(' ', 1) >= 0) ranks.put(rank);
        }
    }

    /** The id of a symbol text, given one past the vocabulary if it is not a token. */
    int symbolId(String text) {
        int id = vocab.id(text);
        return id >= 0 ? id : extraId(text);
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
        String l = text(left);
        int rank = ranks.get(l + " " + text(right));
        return rank >= 0 && merges[rank].indexOf(' ', 1) == l.length() ? rank : -1;
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
}
