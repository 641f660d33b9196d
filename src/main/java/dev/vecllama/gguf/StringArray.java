package dev.vecllama.gguf;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A metadata array of strings as their UTF-8 bytes, end to end in one array. A Llama 3 vocabulary
 * holds ~400k strings (128k tokens, 280k merges): as a String each they took 24.5 MB of heap, as
 * bytes and ends about 7 (rand-llama3-Q8_0, class histograms), and its resident set after the
 * tokenizer was built went from 120 to 102 MiB. Strings are decoded only when asked for, with
 * {@link String}'s own replacement of malformed bytes; tokenizers compare and hash the bytes
 * themselves, as llama.cpp compares std::string.
 */
public final class StringArray {
    private final byte[] bytes;
    /** ends[i]: one past string i's last byte; string i starts at ends[i - 1] (0 for the first). */
    private final int[] ends;

    StringArray(byte[] bytes, int[] ends) {
        this.bytes = bytes;
        this.ends = ends;
    }

    public static StringArray of(String... strings) {
        byte[][] encoded = new byte[strings.length][];
        long total = 0;
        for (int i = 0; i < strings.length; i++) total += (encoded[i] = strings[i].getBytes(StandardCharsets.UTF_8)).length;
        if (total > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("strings of " + total + " bytes in all do not fit one array");
        byte[] bytes = new byte[(int) total];
        int[] ends = new int[strings.length];
        int end = 0;
        for (int i = 0; i < strings.length; i++) {
            System.arraycopy(encoded[i], 0, bytes, end, encoded[i].length);
            ends[i] = end += encoded[i].length;
        }
        return new StringArray(bytes, ends);
    }

    public int size() {
        return ends.length;
    }

    private int start(int i) {
        return i == 0 ? 0 : ends[i - 1];
    }

    /** The length of string i in UTF-8 bytes. */
    public int length(int i) {
        return ends[i] - start(i);
    }

    /** Byte k of string i. */
    public byte byteAt(int i, int k) {
        return bytes[start(i) + k];
    }

    public String get(int i) {
        return new String(bytes, start(i), length(i), StandardCharsets.UTF_8);
    }

    public String[] toArray() {
        String[] a = new String[size()];
        for (int i = 0; i < a.length; i++) a[i] = get(i);
        return a;
    }

    /** Copies string i's bytes into {@code dst} from {@code off}; returns the offset after them. */
    public int copyTo(int i, byte[] dst, int off) {
        int s = start(i), n = ends[i] - s;
        System.arraycopy(bytes, s, dst, off, n);
        return off + n;
    }

    /** Whether string i is exactly {@code len} bytes of {@code key} from {@code off}. */
    public boolean equals(int i, byte[] key, int off, int len) {
        int s = start(i);
        return ends[i] - s == len && Arrays.equals(bytes, s, s + len, key, off, off + len);
    }

    /** Whether strings i and j are the same bytes. */
    public boolean sameText(int i, int j) {
        return equals(i, bytes, start(j), length(j));
    }

    /** {@link #hash(byte[], int, int)} of string i. */
    public int hash(int i) {
        int s = start(i);
        return hash(bytes, s, ends[i] - s);
    }

    /** The hash tokenizers index strings by: {@link Arrays#hashCode(byte[])}'s, over a range. */
    public static int hash(byte[] b, int off, int len) {
        int h = 1;
        for (int k = off; k < off + len; k++) h = 31 * h + b[k];
        return h;
    }

    /** All strings' bytes together, without their lengths. */
    long byteSize() {
        return bytes.length;
    }

    /** Each string's bytes in order, for a writer. */
    void forEach(StringSink sink) {
        for (int i = 0; i < size(); i++) sink.accept(bytes, start(i), length(i));
    }

    interface StringSink {
        void accept(byte[] bytes, int off, int len);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StringArray s && Arrays.equals(ends, s.ends) && Arrays.equals(bytes, s.bytes);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(ends) + Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return "[STRING x " + size() + "]";
    }
}
