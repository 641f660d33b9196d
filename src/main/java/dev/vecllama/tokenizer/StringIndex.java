package dev.vecllama.tokenizer;

/**
 * Where each string of an array is, by its text: open addressing over the strings' own (cached) hash
 * codes, at most half full, an int per slot where a HashMap keeps a node and a boxed index per string.
 * For a merge table's 280k merges it hashes only strings the file already holds.
 */
final class StringIndex {
    private final String[] strings;
    /** Per slot an index into {@link #strings} + 1, 0 for none. */
    private final int[] slots;
    private final int shift;

    /** An empty index over {@code strings}; {@link #put} files them. */
    StringIndex(String[] strings) {
        this.strings = strings;
        this.slots = new int[Integer.highestOneBit(Math.max(2, strings.length)) * 4];
        this.shift = Integer.numberOfLeadingZeros(slots.length - 1);
    }

    /** Files string {@code i} under its text unless a string of that text is there already; returns the index filed. */
    int put(int i) {
        int s = slot(strings[i]);
        if (slots[s] == 0) slots[s] = i + 1;
        return slots[s] - 1;
    }

    /** The index of a string with this text, or -1. */
    int get(String text) {
        return slots[slot(text)] - 1;
    }

    /** The slot of {@code text}, or the empty slot where it would go. */
    private int slot(String text) {
        int mask = slots.length - 1;
        int i = (text.hashCode() * 0x9E3779B9) >>> shift;
        while (slots[i] != 0 && !strings[slots[i] - 1].equals(text)) i = (i + 1) & mask;
        return i;
    }
}
