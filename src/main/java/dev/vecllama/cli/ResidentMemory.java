package dev.vecllama.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/** This process's resident set as Linux reports it in /proc/self/status: what issue 3's memory target counts. */
final class ResidentMemory {
    private ResidentMemory() {}

    /** The resident set now (VmRSS) and at its peak so far (VmHWM), in bytes; empty where /proc is not there. */
    static OptionalLong now() {
        return field("VmRSS:");
    }

    static OptionalLong peak() {
        return field("VmHWM:");
    }

    private static OptionalLong field(String name) {
        try {
            return parse(Files.readAllLines(Path.of("/proc/self/status")), name);
        } catch (IOException | UncheckedIOException | SecurityException e) {
            return OptionalLong.empty();
        }
    }

    /** A "Name:   123 kB" line of /proc/self/status, in bytes. */
    static OptionalLong parse(List<String> status, String name) {
        for (String line : status) {
            if (!line.startsWith(name)) continue;
            String[] parts = line.substring(name.length()).trim().split("\\s+");
            if (parts.length == 2 && parts[1].equals("kB")) {
                try {
                    return OptionalLong.of(Long.parseLong(parts[0]) * 1024);
                } catch (NumberFormatException e) {
                    return OptionalLong.empty();
                }
            }
        }
        return OptionalLong.empty();
    }
}
