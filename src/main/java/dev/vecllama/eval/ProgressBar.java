package dev.vecllama.eval;

import java.io.PrintStream;

/** One self-overwriting status line on a terminal (stderr), e.g. {@code [#####.....] 12/117 PPL 28.9301}. */
public final class ProgressBar {
    private static final int WIDTH = 30;
    private final PrintStream out;
    private final int total;
    private final long t0 = System.nanoTime();

    public ProgressBar(PrintStream out, int total) {
        this.out = out;
        this.total = total;
    }

    public void update(int done, String status) {
        int filled = (int) ((long) WIDTH * done / total);
        double secs = (System.nanoTime() - t0) / 1e9;
        double eta = done > 0 ? secs * (total - done) / done : 0;
        out.printf("\r[%s%s] %d/%d %s  %.0fs, ETA %.0fs ", "#".repeat(filled), ".".repeat(WIDTH - filled), done, total,
                status, secs, eta);
        if (done == total) out.println();
        out.flush();
    }
}
