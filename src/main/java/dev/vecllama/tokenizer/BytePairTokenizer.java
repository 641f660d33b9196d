package dev.vecllama.tokenizer;

import dev.vecllama.gguf.GGUFFile;
import dev.vecllama.gguf.StringArray;
import java.nio.charset.StandardCharsets;

/**
 * Byte-level BPE ({@code tokenizer.ggml.model = gpt2}, llama.cpp's llm_tokenizer_bpe): the pre-tokenizer
 * named by {@code tokenizer.ggml.pre} cuts the text into words, each word's UTF-8 bytes start as one symbol
 * each, and neighbouring symbols merge by the rank of their pair in {@code tokenizer.ggml.merges}, lowest first.
 */
final class BytePairTokenizer extends BaseTokenizer {
    static final String KEY_MERGES = "tokenizer.ggml.merges";

    private final PreTokenizer pre;
    private final MergeTable merges;
    private final int[] byteSymbols = new int[256];

    private BytePairTokenizer(Vocabulary vocab, PreTokenizer pre, StringArray merges) {
        super(vocab);
        this.pre = pre;
        this.merges = new MergeTable(vocab, merges);
        for (int b = 0; b < 256; b++) {
            byte[] symbol = String.valueOf(ByteUnicode.charOf(b)).getBytes(StandardCharsets.UTF_8);
            byteSymbols[b] = this.merges.symbolId(symbol, 0, symbol.length);
        }
    }

    static BytePairTokenizer fromGGUF(GGUFFile f) {
        StringArray merges = f.getStrings(KEY_MERGES);
        if (merges == null) throw new IllegalArgumentException("missing " + KEY_MERGES + " (required by tokenizer.ggml.model gpt2)");
        PreTokenizer pre = PreTokenizer.forName(f.getString(PreTokenizer.KEY_PRE, null));
        // llama.cpp's defaults for BPE vocabularies: BOS = EOS = 11 unless the metadata says otherwise
        Vocabulary v = Vocabulary.read(f, new Vocabulary.Defaults(11, 11, -1, pre.addsBos));
        return new BytePairTokenizer(v, pre, merges);
    }

    @Override
    void encodeText(String text, boolean afterSpecial, IntList out) {
        for (byte[] word : pre.split(text)) encodeWord(word, out);
    }

    private void encodeWord(byte[] word, IntList out) {
        if (pre.ignoreMerges) {
            int id = vocab.id(ByteUnicode.encode(word));
            if (id >= 0) {
                out.add(id);
                return;
            }
        }
        int n = word.length;
        int[] start = new int[n];
        int[] len = new int[n];
        int[] symbol = new int[n];
        for (int i = 0; i < n; i++) {
            start[i] = i;
            len[i] = 1;
            symbol[i] = byteSymbols[word[i] & 0xFF];
        }
        PairMerger m = new PairMerger(start, len) {
            @Override
            long priority(int left, int right) {
                int rank = merges.rank(symbol[left], symbol[right]);
                return rank < 0 ? NO_MERGE : rank;
            }

            @Override
            void merged(int left, int right, int rank) {
                symbol[left] = merges.result(rank, symbol[left], symbol[right]);
            }
        };
        m.run();
        for (int i = m.first(); i >= 0; i = m.next(i)) {
            if (symbol[i] < vocab.size()) {
                out.add(symbol[i]);
            } else {
                // llama.cpp spells a symbol that is no token byte by byte, and only single ASCII bytes are tokens
                byte[] bytes = merges.bytes(symbol[i]);
                for (int k = 0; k < bytes.length; k++) {
                    int id = bytes[k] >= 0 ? vocab.id(bytes, k, 1) : -1;
                    if (id >= 0) out.add(id);
                }
            }
        }
    }

    @Override
    byte[] normalPiece(String text) {
        return ByteUnicode.decode(text);
    }

    @Override
    boolean stripsLeadingSpace() {
        return false;
    }
}
