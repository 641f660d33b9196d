package dev.vecllama.cli;

import java.io.UncheckedIOException;
import picocli.CommandLine;

/** Entry point: one Picocli command per verb; every failure ends as one line on stderr. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String... args) {
        CommandLine cl = new CommandLine(new RunCommand());
        cl.setParameterExceptionHandler((ex, a) -> {
            System.err.println("error: " + ex.getMessage().lines().findFirst().orElse("bad arguments")
                    + " (see --help)");
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            System.err.println("error: " + message(ex));
            if (System.getenv("VECLLAMA_DEBUG") != null) ex.printStackTrace();
            return 1;
        });
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) {
            System.err.println("error: out of memory (" + e.getMessage() + "); try a smaller -c/--ctx-size");
            return 1;
        }
    }

    /** The one line a user sees: our own exceptions carry a complete message; others get their type named. */
    static String message(Throwable ex) {
        if (ex instanceof UncheckedIOException u && u.getCause() != null) ex = u;
        String m = ex.getMessage();
        boolean ours = ex.getClass().getName().startsWith("dev.vecllama")
                || ex instanceof IllegalArgumentException || ex instanceof UncheckedIOException;
        if (m == null || m.isBlank()) m = ex.getClass().getSimpleName();
        else if (!ours) m = ex.getClass().getSimpleName() + ": " + m;
        return m.lines().findFirst().orElse(m);
    }
}
