package dev.vecllama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** bench's table on the tiny Q4_K_M model, and the resident-set line beneath it. */
class BenchCommandTest {
    private static final String MODEL = Path.of("../shared/models/vl-tiny-f-Q4_K_M.gguf").toString();

    @Test
    void tableOfEachTestThenTheResidentSet() {
        CliRun run = CliRun.of("bench", MODEL, "-p", "16", "-n", "4", "-r", "2", "-t", "1");
        assertEquals(0, run.exitCode(), run.err());
        List<String> rows = run.out().lines().filter(l -> l.startsWith("| vl-tiny-f Q4_K_M")).toList();
        assertEquals(2, rows.size(), run.out());
        assertTrue(rows.get(0).matches("\\| vl-tiny-f Q4_K_M \\| 9\\.76 MiB \\| 12\\.91 M \\| 1 \\| pp16 \\| [1-9][0-9.]* ± [0-9.]+ \\|"), rows.get(0));
        assertTrue(rows.get(1).matches("\\| vl-tiny-f Q4_K_M \\| 9\\.76 MiB \\| 12\\.91 M \\| 1 \\| tg4 \\| [1-9][0-9.]* ± [0-9.]+ \\|"), rows.get(1));
        if (!Files.isReadable(Path.of("/proc/self/status"))) return;
        Matcher m = Pattern.compile("resident set: ([0-9.]+) MiB after the tests, ([0-9.]+) MiB at its peak \\(model file 9\\.76 MiB, largest KV cache ([0-9.]+) MiB\\)").matcher(run.out());
        assertTrue(m.find(), run.out());
        double after = Double.parseDouble(m.group(1)), peak = Double.parseDouble(m.group(2)), kv = Double.parseDouble(m.group(3));
        assertTrue(after > 9.76 && after <= peak, run.out());
        // 16 positions of the tiny model's 6 layers × 128 key and value halves (2 bytes each).
        assertEquals(16 * 6 * 128 * 2 * 2 / 1048576.0, kv, 0.005, run.out());
    }

    @Test
    void residentSetFieldsInBytes() {
        List<String> status = List.of("Name:\tjava", "VmHWM:\t  125132 kB", "VmRSS:\t   90652 kB", "VmSwap:\t0 MB", "Bad:\tx kB");
        assertEquals(OptionalLong.of(90652L * 1024), ResidentMemory.parse(status, "VmRSS:"));
        assertEquals(OptionalLong.of(125132L * 1024), ResidentMemory.parse(status, "VmHWM:"));
        assertEquals(OptionalLong.empty(), ResidentMemory.parse(status, "VmSwap:"));
        assertEquals(OptionalLong.empty(), ResidentMemory.parse(status, "Bad:"));
        assertEquals(OptionalLong.empty(), ResidentMemory.parse(status, "VmPeak:"));
    }
}
