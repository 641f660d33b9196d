package dev.vecllama.tokenizer;

import dev.vecllama.gguf.StringArray;

/**
 * Where each string of a {@link StringArray} is, by its UTF-8 bytes: open addressing, at most a
 * quarter full, an int per slot where a HashMap keeps a node and a boxed index per string. Byte for
 * byte, as llama.cpp's maps of std::string compare: two malformed texts that decode to the same
 * String are still two texts.
 */
final class TextIndex {
    private final StringArray strings;
    /** Per slot an index into {@link #strings} + 1, 0 for none. */
    private final int[] slots;
    private final int shift;

    /** An empty index over {@code strings}; {@link #put} files them. */
    TextIndex(StringArray strings) {
        this.strings = strings;
        this.slots = new int[Integer.highestOneBit(Math.max(2, strings.size())) * 4];
        this.shift = Integer.numberOfLeadingZeros(slots.length - 1);
    }

    /** Files string {@code i} under its text unless a string of that text is there already; returns the index filed. */
    int put(int i) {
        int mask = slots.length - 1;
        int s = start(strings.hash(i));
        while (slots[s] != 0 && !strings.sameText(slots[s] - 1, i)) s = (s + 1) & mask;
        if (slots[s] == 0) slots[s] = i + 1;
        return slots[s] - 1;
    }

    /** The index of a string of {@code len} bytes of {@code key} from {@code off}, or -1. */
    int get(byte[] key, int off, int len) {
        int mask = slots.length - 1;
        int s = start(StringArray.hash(key, off, len));
        while (slots[s] != 0 && !strings.equals(slots[s] - 1, key, off, len)) s = (s + 1) & mask;
        return slots[s] - 1;
    }

    private int start(int hash) {
        return (hash * 0x9E3779B9) >>> shift;
    }
}
