package dev.vecllama.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into the words byte-level BPE merges within, by the regexes llama.cpp uses for each
 * {@code tokenizer.ggml.pre}. The regexes run the way llama.cpp runs them: over a "collapsed" copy of the text
 * with one character per code point, where every non-ASCII code point stands as a placeholder for its Unicode
 * class (letter, number, punctuation, mark, symbol, other; whitespace as \v), and each {@code \p{..}} in a
 * regex becomes that placeholder plus the ASCII members of the class. So Java's regex engine, like
 * llama.cpp's std::regex, only ever sees ASCII and placeholders, and both agree on what \s, \p{L} and
 * \p{N} mean. (llama.cpp's hand-written splitters for the gpt-2 and llama-bpe regexes give the same words.)
 * Each regex refines the pieces the previous one made; text between matches is a piece of its own.
 */
final class PreTokenizer {
    static final String KEY_PRE = "tokenizer.ggml.pre";

    // The placeholders of the collapsed text (llama.cpp's choice of bytes).
    private static final char OTHER = 0xD0, NUMBER = 0xD1, LETTER = 0xD2, PUNCT = 0xD3, MARK = 0xD4, SYMBOL = 0xD5;
    private static final Map<String, String> CLASS_MEMBERS = Map.of(
            "N", "\\x{D1}0-9",
            "L", "\\x{D2}A-Za-z",
            "P", "\\x{D3}!-#%-*,-/:-;?-@\\[-\\]_\\{\\}",
            "M", "\\x{D4}",
            "S", "\\x{D5}\\$\\+<->\\^`\\|"); // must precede the instances below, which compile with it

    private static final String GPT2 =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
    // llama.cpp's ASCII spelling of (?i:'s|'t|'re|'ve|'m|'ll|'d)
    private static final String CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
    private static final String LLAMA3 = CONTRACTIONS
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String QWEN2 = CONTRACTIONS
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private static final PreTokenizer DEFAULT = new PreTokenizer(List.of("default"), false, false,
            "[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]");

    /** Each supported pre-tokenizer under the pre values llama.cpp gives the same regexes and flags. */
    private static final Map<String, PreTokenizer> BY_NAME = byName(
            DEFAULT,
            new PreTokenizer(List.of("gpt-2", "phi-2", "mpt", "olmo", "jais", "exaone4"), false, false, GPT2),
            new PreTokenizer(List.of("llama-bpe", "llama3", "llama-v3", "falcon3", "pixtral"), true, true, LLAMA3),
            new PreTokenizer(List.of("qwen2", "deepseek-r1-qwen", "stablelm2", "megrez"), false, false, QWEN2));

    private final List<String> names;
    private final List<Pattern> patterns;
    /** Take a word that is itself a token as that token, without merging (llama.cpp's ignore_merges). */
    final boolean ignoreMerges;
    /** Whether llama.cpp adds BOS by default for this pre-tokenizer (before tokenizer.ggml.add_bos_token). */
    final boolean addsBos;

    private PreTokenizer(List<String> names, boolean ignoreMerges, boolean addsBos, String... regexes) {
        this.names = names;
        this.ignoreMerges = ignoreMerges;
        this.addsBos = addsBos;
        this.patterns = new ArrayList<>();
        for (String r : regexes) patterns.add(Pattern.compile(collapse(r)));
    }

    /**
     * The pre-tokenizer for a {@code tokenizer.ggml.pre} value. Missing (null) is llama.cpp's "default" with a
     * warning; a value llama.cpp does not know, or one this port does not support, is an error.
     */
    static PreTokenizer forName(String pre) {
        if (pre == null) {
            System.getLogger(PreTokenizer.class.getName()).log(System.Logger.Level.WARNING,
                    "missing " + KEY_PRE + ", using 'default': generation quality will be degraded");
            return DEFAULT;
        }
        PreTokenizer p = BY_NAME.get(pre);
        if (p == null) throw new IllegalArgumentException("unsupported " + KEY_PRE + " '" + pre + "'");
        return p;
    }

    /** The words of {@code text}, each as UTF-8 bytes. */
    List<byte[]> split(String text) {
        int[] cps = text.codePoints().toArray();
        String collapsed = collapseText(cps);
        IntList ends = new IntList();
        ends.add(cps.length);
        for (Pattern p : patterns) ends = refine(p.matcher(collapsed), ends.toArray());
        List<byte[]> words = new ArrayList<>(ends.size());
        int from = 0;
        for (int end : ends.toArray()) {
            words.add(new String(cps, from, end - from).getBytes(StandardCharsets.UTF_8));
            from = end;
        }
        return words;
    }

    /** Splits every piece [previous end, end) at the matches of the pattern within it. */
    private static IntList refine(Matcher m, int[] ends) {
        IntList out = new IntList();
        int from = 0;
        for (int end : ends) {
            m.region(from, end); // opaque bounds: a lookahead sees the piece's end as the end of text
            int last = from;
            while (m.find()) {
                if (m.start() > last) out.add(m.start());
                out.add(m.end());
                last = m.end();
            }
            if (last < end) out.add(end);
            from = end;
        }
        return out;
    }

    private static String collapseText(int[] cps) {
        char[] c = new char[cps.length];
        for (int i = 0; i < cps.length; i++) c[i] = collapse(cps[i]);
        return new String(c);
    }

    /** ASCII stays itself; anything else becomes the placeholder of its class. */
    static char collapse(int cp) {
        if (cp < 0x80) return (char) cp;
        if (isWhitespace(cp)) return 0x0B;
        return switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                 Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
                 Character.OTHER_PUNCTUATION -> PUNCT;
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK -> MARK;
            case Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL,
                 Character.OTHER_SYMBOL -> SYMBOL;
            default -> OTHER;
        };
    }

    /** Unicode's White_Space property, the set llama.cpp's tables use (unlike Character.isWhitespace). */
    static boolean isWhitespace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
                || cp == 0x205F || cp == 0x3000;
    }

    /** Rewrites each \p{X} of an ASCII regex to its placeholder plus ASCII members, as llama.cpp does. */
    private static String collapse(String regex) {
        StringBuilder out = new StringBuilder();
        boolean inClass = false;
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            boolean escaped = i > 0 && regex.charAt(i - 1) == '\\';
            if (c == '[' && !escaped) {
                inClass = true;
            } else if (c == ']' && inClass && !escaped) {
                inClass = false;
            } else if (c == '\\' && regex.startsWith("p{", i + 1)) {
                int close = regex.indexOf('}', i);
                String members = CLASS_MEMBERS.get(regex.substring(i + 3, close));
                if (members == null) throw new IllegalStateException("no collapsed form for " + regex.substring(i, close + 1));
                out.append(inClass ? members : "[" + members + "]");
                i = close;
                continue;
            }
            out.append(c);
        }
        return out.toString();
    }

    private static Map<String, PreTokenizer> byName(PreTokenizer... all) {
        Map<String, PreTokenizer> m = new HashMap<>();
        for (PreTokenizer p : all) for (String n : p.names) m.put(n, p);
        return Map.copyOf(m);
    }
}
