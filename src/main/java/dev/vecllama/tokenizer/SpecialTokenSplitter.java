package dev.vecllama.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Cuts the texts of special tokens out of the input before the tokenizer proper sees it (llama.cpp's
 * tokenizer_st_partition): longer token texts (in UTF-8 bytes, as llama.cpp counts) are cut first, so a
 * special token is never read as a shorter one inside it.
 */
final class SpecialTokenSplitter {

    /** Either raw text still to be tokenized ({@code text != null}) or one special token. */
    record Fragment(String text, int token) {
        static Fragment of(String text) {
            return new Fragment(text, -1);
        }

        boolean isToken() {
            return text == null;
        }
    }

    private final Vocabulary vocab;
    private final int[] specials;

    SpecialTokenSplitter(Vocabulary vocab) {
        this.vocab = vocab;
        this.specials = IntStream.range(0, vocab.size())
                .filter(id -> vocab.type(id).isSpecial() || vocab.type(id) == TokenType.USER_DEFINED)
                .boxed()
                .sorted(Comparator.comparingInt((Integer id) -> -vocab.text(id).getBytes(StandardCharsets.UTF_8).length)
                        .thenComparingInt(id -> id))
                .mapToInt(Integer::intValue)
                .toArray();
    }

    /** The fragments of {@code text}; user-defined tokens are always cut out, control and unknown ones only if asked. */
    List<Fragment> split(String text, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        if (text.isEmpty()) return fragments;
        fragments.add(Fragment.of(text));
        for (int id : specials) {
            if (!parseSpecial && vocab.type(id) != TokenType.USER_DEFINED) continue;
            String special = vocab.text(id);
            List<Fragment> next = new ArrayList<>(fragments.size());
            for (Fragment f : fragments) {
                if (f.isToken()) {
                    next.add(f);
                } else {
                    cut(f.text(), special, id, next);
                }
            }
            fragments = next;
        }
        return fragments;
    }

    private static void cut(String text, String special, int id, List<Fragment> out) {
        int from = 0;
        for (int at = text.indexOf(special); at >= 0; at = text.indexOf(special, from)) {
            if (at > from) out.add(Fragment.of(text.substring(from, at)));
            out.add(new Fragment(null, id));
            from = at + special.length();
        }
        if (from < text.length()) out.add(Fragment.of(from == 0 ? text : text.substring(from)));
    }
}
