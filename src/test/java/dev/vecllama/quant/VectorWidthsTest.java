package dev.vecllama.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs {@link KernelChecks} in a child JVM per vector width. The width is a static final (C2 needs
 * constant species), so one JVM can only exercise one; 512-bit kernels run correctly (if slowly) on
 * machines without AVX-512, so every width is checked everywhere.
 */
class VectorWidthsTest {
    @ParameterizedTest
    @ValueSource(ints = {512, 256, 128})
    void kernelsAgreeWithReferenceAt(int bits) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules=jdk.incubator.vector", "-Dvecllama.vector.bits=" + bits,
                "-cp", System.getProperty("java.class.path"), KernelChecks.class.getName()));
        Path log = Files.createTempFile("vecllama-width-" + bits, ".log");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new AssertionError("kernel checks at " + bits + " bits timed out");
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), () -> "kernel checks at " + bits + " bits failed:\n" + out);
            assertEquals(true, out.contains("kernel checks passed at " + bits + " bits"), out);
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
