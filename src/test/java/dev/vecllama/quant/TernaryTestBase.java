package dev.vecllama.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vecllama.gguf.GGMLType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The checks both ternary formats share; subclasses add their hand-built blocks. */
abstract class TernaryTestBase {
    abstract Ternary format();

    @Test
    void registered() {
        GGMLType t = format().type();
        assertEquals(format(), WeightFormat.of(t));
        assertEquals(t.typeSize, t.bytesFor(256));
    }

    @Test
    void randomRowsAtThisWidth() {
        TernaryChecks.checkRandom(format());
    }

    @Test
    void zeroScalesAndActivations() {
        TernaryChecks.checkZero(format());
    }

    @Test
    void extremeCodesAndScales() {
        TernaryChecks.checkExtremes(format());
    }

    @Test
    void laneKernelEqualsDotPerToken() {
        TernaryChecks.checkLanes(format());
    }

    /** The vector width is a static final, so each width runs in its own JVM (see VectorWidthsTest). */
    @ParameterizedTest
    @ValueSource(ints = {512, 256, 128})
    void allChecksAtWidth(int bits) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Path log = Files.createTempFile("vecllama-ternary-" + bits, ".log");
        try {
            Process p = new ProcessBuilder(List.of(java, "--add-modules=jdk.incubator.vector", "-Dvecllama.vector.bits=" + bits,
                    "-cp", System.getProperty("java.class.path"), TernaryChecks.class.getName()))
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new AssertionError("ternary checks at " + bits + " bits timed out");
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), () -> "ternary checks at " + bits + " bits failed:\n" + out);
            assertTrue(out.contains("ternary checks passed at " + Math.min(bits, 256) + " bits"), out);
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
