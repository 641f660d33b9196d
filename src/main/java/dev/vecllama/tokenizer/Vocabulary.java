package dev.vecllama.tokenizer;

import dev.vecllama.gguf.GGUFFile;
import dev.vecllama.gguf.StringArray;

import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * The token table both tokenizer kinds share: texts, types, scores, the text → id map and the special ids,
 * read from {@code tokenizer.ggml.*} the way llama.cpp's llama_vocab::load reads them.
 */
final class Vocabulary {
    static final String KEY_MODEL = "tokenizer.ggml.model";
    static final String KEY_TOKENS = "tokenizer.ggml.tokens";
    static final String KEY_SCORES = "tokenizer.ggml.scores";
    static final String KEY_TYPES = "tokenizer.ggml.token_type";
    static final String KEY_BOS = "tokenizer.ggml.bos_token_id";
    static final String KEY_EOS = "tokenizer.ggml.eos_token_id";
    static final String KEY_UNK = "tokenizer.ggml.unknown_token_id";
    static final String KEY_ADD_BOS = "tokenizer.ggml.add_bos_token";
    static final String KEY_EOT = "tokenizer.ggml.eot_token_id";
    static final String KEY_EOM = "tokenizer.ggml.eom_token_id";

    /**
     * Texts that end a turn in common chat formats; llama.cpp also treats such control tokens as
     * end of generation even when the file names only one of them as EOS/EOT.
     */
    private static final Set<String> END_OF_GENERATION_TEXTS = Set.of(
            "</s>", "<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
            "<|end_of_text|>", "<EOT>", "_<EOT>", "<｜end▁of▁sentence｜>");

    /** What llama.cpp assumes for a tokenizer kind before it reads the metadata. */
    record Defaults(int bos, int eos, int unk, boolean addBos) {
    }

    private final StringArray texts;
    private final TokenType[] types;
    private final float[] scores;
    private final TextIndex ids;
    final int bos;
    final int eos;
    final int unk;
    final boolean addBos;
    /** Tokens at which generation stops: EOS, EOT, EOM and the control tokens that end a turn. */
    final boolean[] endOfGeneration;

    private Vocabulary(StringArray texts, TokenType[] types, float[] scores, TextIndex ids,
                       int bos, int eos, int unk, boolean addBos, boolean[] endOfGeneration) {
        this.texts = texts;
        this.types = types;
        this.scores = scores;
        this.ids = ids;
        this.bos = bos;
        this.eos = eos;
        this.unk = unk;
        this.addBos = addBos;
        this.endOfGeneration = endOfGeneration;
    }

    static Vocabulary read(GGUFFile f, Defaults d) {
        StringArray texts = f.getStrings(KEY_TOKENS);
        if (texts == null) throw new IllegalArgumentException("missing " + KEY_TOKENS);
        int n = texts.size();
        if (n == 0) throw new IllegalArgumentException(KEY_TOKENS + " is empty");
        float[] scores = readScores(f, n);
        TokenType[] types = readTypes(f, n);

        texts = namedEmpties(texts);
        TextIndex ids = new TextIndex(texts);
        for (int i = 0; i < n; i++) {
            int first = ids.put(i);
            if (first != i) throw new IllegalArgumentException("duplicate token in vocabulary: '" + texts.get(i) + "' has ids " + first + " and " + i);
        }
        int bos = specialId(f, KEY_BOS, d.bos(), n);
        int eos = specialId(f, KEY_EOS, d.eos(), n);
        int unk = specialId(f, KEY_UNK, d.unk(), n);
        boolean addBos = f.getBool(KEY_ADD_BOS, d.addBos());
        if (addBos && bos < 0) throw new IllegalArgumentException(KEY_ADD_BOS + " is true, but " + KEY_BOS + " is not set");
        boolean[] eog = new boolean[n];
        for (int i = 0; i < n; i++) eog[i] = types[i].isSpecial() && END_OF_GENERATION_TEXTS.contains(texts.get(i));
        for (int id : new int[] {eos, specialId(f, KEY_EOT, -1, n), specialId(f, KEY_EOM, -1, n)}) {
            if (id >= 0) eog[id] = true;
        }
        return new Vocabulary(texts, types, scores, ids, bos, eos, unk, addBos, eog);
    }

    /** The texts with each empty one named as llama.cpp names it, so every token stays findable. */
    private static StringArray namedEmpties(StringArray texts) {
        String[] named = null;
        for (int i = 0; i < texts.size(); i++) {
            if (texts.length(i) > 0) continue;
            if (named == null) named = texts.toArray();
            named[i] = "[EMPTY_" + i + "]";
        }
        return named == null ? texts : StringArray.of(named);
    }

    private static float[] readScores(GGUFFile f, int n) {
        Object raw = f.get(KEY_SCORES);
        float[] s;
        if (raw == null) {
            s = new float[n];
        } else if (raw instanceof float[] a) {
            s = a;
        } else if (raw instanceof int[] a) { // llama.cpp accepts int32 scores too
            s = new float[a.length];
            for (int i = 0; i < a.length; i++) s[i] = a[i];
        } else {
            throw new IllegalArgumentException(KEY_SCORES + " is not an array of float32 or int32");
        }
        if (s.length < n) throw new IllegalArgumentException(KEY_SCORES + " has " + s.length + " entries for " + n + " tokens");
        return s;
    }

    private static TokenType[] readTypes(GGUFFile f, int n) {
        TokenType[] types = new TokenType[n];
        int[] raw = f.has(KEY_TYPES) ? f.getIntArray(KEY_TYPES) : null;
        if (raw != null && raw.length < n) {
            throw new IllegalArgumentException(KEY_TYPES + " has " + raw.length + " entries for " + n + " tokens");
        }
        for (int i = 0; i < n; i++) types[i] = raw == null ? TokenType.NORMAL : TokenType.of(raw[i]);
        return types;
    }

    /** The metadata id if it is in range, else the default if that is in range, else -1 (none). */
    private static int specialId(GGUFFile f, String key, int dflt, int n) {
        long id = f.getLong(key, dflt);
        if (id >= 0 && id < n) return (int) id;
        if (id != dflt) System.getLogger(Vocabulary.class.getName())
                .log(System.Logger.Level.WARNING, "bad special token: " + key + " = " + id + ", using default " + dflt);
        return dflt >= 0 && dflt < n ? dflt : -1;
    }

    int size() {
        return texts.size();
    }

    String text(int id) {
        return texts.get(id);
    }

    /** The token texts as UTF-8 bytes. */
    StringArray texts() {
        return texts;
    }

    TokenType type(int id) {
        return types[id];
    }

    float score(int id) {
        return scores[id];
    }

    /** The id of the token with exactly this text, or -1. */
    int id(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        return id(b, 0, b.length);
    }

    /** The id of the token whose text is {@code len} bytes of {@code b} from {@code off}, or -1. */
    int id(byte[] b, int off, int len) {
        return ids.get(b, off, len);
    }
}
