package dev.vecllama.chat;

import java.util.List;

/**
 * Watches streamed text for stop strings (an API's {@code stop}, a template's end marker spelled in
 * several tokens): text that might be the start of one is held back until it is clear, so a stop
 * string is never shown, not even in part.
 */
final class StopStrings {
    private final List<String> stops;
    private final StringBuilder held = new StringBuilder();
    private boolean stopped;

    StopStrings(List<String> stops) {
        this.stops = stops.stream().filter(s -> !s.isEmpty()).toList();
    }

    /** Adds text and returns what can be shown now; after a stop string, only the text before it. */
    String push(String text) {
        if (stopped) return "";
        held.append(text);
        int cut = -1;
        for (String stop : stops) {
            int at = held.indexOf(stop);
            if (at >= 0 && (cut < 0 || at < cut)) cut = at;
        }
        if (cut >= 0) {
            stopped = true;
            String shown = held.substring(0, cut);
            held.setLength(0);
            return shown;
        }
        int keep = 0;
        for (String stop : stops) keep = Math.max(keep, overlap(held, stop));
        String shown = held.substring(0, held.length() - keep);
        held.delete(0, held.length() - keep);
        return shown;
    }

    /** The text held back, now that no more is coming. */
    String flush() {
        String rest = held.toString();
        held.setLength(0);
        return rest;
    }

    boolean stopped() {
        return stopped;
    }

    /** The length of the longest end of {@code text} that begins {@code stop}. */
    private static int overlap(CharSequence text, String stop) {
        for (int n = Math.min(stop.length() - 1, text.length()); n > 0; n--) {
            if (stop.regionMatches(0, text.toString(), text.length() - n, n)) return n;
        }
        return 0;
    }
}
