package dev.vecllama.tokenizer;

import dev.vecllama.gguf.StringArray;
import java.nio.charset.StandardCharsets;
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
 * warm-up's kernels), now 101 ms. A lookup joins the two parts' UTF-8 bytes and checks that the merge
 * splits there, so a pair matches exactly the merges llama.cpp's table of (left, right) strings files
 * under it. A symbol id is the token id when the symbol is a token; the rare symbol that is not a token
 * gets an id past the vocabulary. The symbol a merge makes is looked up the first time the merge is
 * used. Safe to share between threads.
 */
final class MergeTable {
    private final Vocabulary vocab;
    private final StringArray merges;
    /** Symbols that are no token, by their bytes read as ISO-8859-1 (one char per byte). */
    private final Map<String, Integer> extraIds = new HashMap<>();
    private final List<byte[]> extraTexts = new ArrayList<>();
    /** Rank by text: a repeated merge keeps its first (best) rank. */
    private final TextIndex ranks;
    private final int[] results;

    MergeTable(Vocabulary vocab, StringArray merges) {
        this.vocab = vocab;
        this.merges = merges;
        ranks = new TextIndex(merges);
        results = new int[merges.size()];
        Arrays.fill(results, -1);
        for (int rank = 0; rank < merges.size(); rank++) {
            // llama.cpp files a merge without a separating space under ("", ""), which no symbol ever is.
            if (separator(rank) > 0) ranks.put(rank);
        }
    }

    /**
     * Where the space that separates a merge's parts is, or -1: looked for from the second byte, since
     * a part may itself be a space (no byte of a multi-byte UTF-8 character is one).
     */
    private int separator(int rank) {
        for (int k = 1; k < merges.length(rank); k++) if (merges.byteAt(rank, k) == ' ') return k;
        return -1;
    }

    /** The id of a symbol of {@code len} bytes of {@code b} from {@code off}, given one past the vocabulary if it is not a token. */
    int symbolId(byte[] b, int off, int len) {
        int id = vocab.id(b, off, len);
        return id >= 0 ? id : extraId(Arrays.copyOfRange(b, off, off + len));
    }

    private synchronized int extraId(byte[] text) {
        return extraIds.computeIfAbsent(new String(text, StandardCharsets.ISO_8859_1), t -> {
            extraTexts.add(text);
            return vocab.size() + extraTexts.size() - 1;
        });
    }

    /** The UTF-8 bytes of any symbol id, in a new array. */
    byte[] bytes(int id) {
        byte[] b = new byte[length(id)];
        copyTo(id, b, 0);
        return b;
    }

    private synchronized byte[] extra(int id) {
        return extraTexts.get(id - vocab.size());
    }

    private int length(int id) {
        return id < vocab.size() ? vocab.texts().length(id) : extra(id).length;
    }

    private int copyTo(int id, byte[] dst, int off) {
        if (id < vocab.size()) return vocab.texts().copyTo(id, dst, off);
        byte[] b = extra(id);
        System.arraycopy(b, 0, dst, off, b.length);
        return off + b.length;
    }

    /** The rank of merging these two symbols, or -1 if they do not merge. */
    int rank(int left, int right) {
        int l = length(left);
        byte[] key = new byte[l + 1 + length(right)];
        copyTo(left, key, 0);
        key[l] = ' ';
        copyTo(right, key, l + 1);
        int rank = ranks.get(key, 0, key.length);
        return rank >= 0 && separator(rank) == l ? rank : -1;
    }

    /** The symbol that merging {@code left} and {@code right}, whose merge has this rank, makes. */
    int result(int rank, int left, int right) {
        int r = results[rank];
        if (r < 0) {
            byte[] joined = new byte[length(left) + length(right)];
            copyTo(right, joined, copyTo(left, joined, 0));
            r = symbolId(joined, 0, joined.length);
            results[rank] = r; // racing threads store the same value
        }
        return r;
    }
}
