package dev.vecllama.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The ranked merges of a byte-level BPE vocabulary ({@code tokenizer.ggml.merges}, "left right", best first),
 * in an open-addressing table keyed by the merge's own text (≈280k merges for Llama 3). Keyed so, building it
 * only hashes strings the file already holds: keyed by the pair of their parts' ids, building it looked up
 * two parts per merge, a third of a Llama 3 model's start (while the JIT's top tier was busy with the warm-up's
 * kernels). A lookup joins the two parts' texts and checks that the merge splits there, so a pair matches
 * exactly the merges llama.cpp's table of (left, right) strings files under it. A symbol id is the token id
 * when the symbol is a token; the rare symbol that is not a token gets an id past the vocabulary. The symbol
 * a merge makes is looked up the first time the merge is used. Safe to share between threads.
 */
final class MergeTable {
    private final Vocabulary vocab;
    private final String[] merges;
    private final Map<String, Integer> extraIds = new HashMap<>();
    private final List<String> extraTexts = new ArrayList<>();
    /** Per slot a rank + 1, 0 for none. */
    private final int[] slots;
    private final int[] results;

    MergeTable(Vocabulary vocab, String[] merges) {
        this.vocab = vocab;
        this.merges = merges;
        slots = new int[Integer.highestOneBit(Math.max(2, merges.length) * 2)]; // at most half full
        results = new int[merges.length];
        Arrays.fill(results, -1);
        for (int rank = 0; rank < merges.length; rank++) {
            // llama.cpp files a merge without a separating space under ("", ""), which no symbol ever is;
            // a part may itself be a space, so the separator is looked for from the second character.
            if (merges[rank].indexOf(' ', 1) < 0) continue;
            int slot = slot(merges[rank]);
            if (slots[slot] == 0) slots[slot] = rank + 1; // a repeated pair keeps its first (best) rank
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
        int rank = slots[slot(l + " " + text(right))] - 1;
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

    /** The slot holding the merge whose text is {@code key}, or the empty slot where it would go. */
    private int slot(String key) {
        int mask = slots.length - 1;
        int i = (key.hashCode() * 0x9E3779B9) >>> Integer.numberOfLeadingZeros(mask) & mask;
        while (slots[i] != 0 && !merges[slots[i] - 1].equals(key)) i = (i + 1) & mask;
        return i;
    }
}
