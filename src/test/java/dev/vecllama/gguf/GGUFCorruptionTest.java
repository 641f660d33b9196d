package dev.vecllama.gguf;

import static dev.vecllama.gguf.GGUFAssert.assertOneLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Damaged copies of the sample file: the reader may accept them or reject them, but only ever with GGUFFormatException. */
class GGUFCorruptionTest {
    private static final int TRIALS = 25_000;

    @ParameterizedTest(name = "alignment {0} (0 = default)")
    @ValueSource(ints = {0, 64})
    void everyPrefixIsRejectedUnlessOnlyTrailingPaddingIsCut(int alignment) {
        byte[] whole = SampleGGUF.bytes(alignment);
        long dataStart;
        long dataEnd = 0;
        try (GGUFFile f = SampleGGUF.parse(whole)) {
            dataStart = f.dataStart();
            for (TensorInfo t : f.tensors().values()) dataEnd = Math.max(dataEnd, dataStart + t.offset() + t.byteSize());
        }
        assertTrue(dataEnd < whole.length, "the sample must end in padding so that the lenient case is covered");

        for (int cut = 0; cut < whole.length; cut++) {
            Throwable thrown = parse(Arrays.copyOf(whole, cut));
            String at = "prefix of " + cut + " bytes";
            if (thrown == null) {
                // Like a reader that stops at the last tensor's end, we do not demand the final padding.
                assertTrue(cut >= dataEnd, at + " parsed although it cuts tensor data");
                continue;
            }
            GGUFFormatException e = assertInstanceOf(GGUFFormatException.class, thrown, at);
            assertOneLine(e);
            if (cut >= dataStart) {
                assertEquals(dataEndsPastEof(whole, dataStart, cut), e.getMessage(), at);
            } else {
                assertTrue(e.getMessage().matches(".*(truncated file|cannot fit|past end of file).*"), at + ": " + e.getMessage());
            }
        }
    }

    @ParameterizedTest(name = "alignment {0} (0 = default)")
    @ValueSource(ints = {0, 64})
    void randomByteFlipsAreAcceptedOrRejectedCleanly(int alignment) {
        byte[] whole = SampleGGUF.bytes(alignment);
        int[] outcomes = new int[2]; // [accepted, rejected]
        assertTimeoutPreemptively(Duration.ofMinutes(2), () -> {
            for (int trial = 0; trial < TRIALS; trial++) {
                SplittableRandom rnd = new SplittableRandom(trial * 31L + alignment);
                byte[] damaged = whole.clone();
                StringBuilder flips = new StringBuilder();
                for (int n = rnd.nextInt(1, 5); n > 0; n--) {
                    int at = rnd.nextInt(damaged.length);
                    damaged[at] = mutate(damaged[at], rnd);
                    flips.append(' ').append(at).append('=').append(damaged[at] & 0xFF);
                }
                Throwable thrown = parseAndUse(damaged);
                if (thrown == null) {
                    outcomes[0]++;
                } else if (thrown instanceof GGUFFormatException e) {
                    assertOneLine(e);
                    outcomes[1]++;
                } else {
                    fail("trial " + trial + " (bytes" + flips + ") threw " + thrown, thrown);
                }
            }
        });
        assertTrue(outcomes[0] > TRIALS / 20 && outcomes[1] > TRIALS / 20,
                "both outcomes should be common, got " + Arrays.toString(outcomes));
    }

    /** Single bit flips, arbitrary bytes and the extreme values that make lengths and counts hostile. */
    private static byte mutate(byte b, SplittableRandom rnd) {
        return switch (rnd.nextInt(4)) {
            case 0 -> (byte) (b ^ (1 << rnd.nextInt(8)));
            case 1 -> (byte) 0xFF;
            case 2 -> (byte) 0x80;
            default -> (byte) rnd.nextInt(256);
        };
    }

    private static String dataEndsPastEof(byte[] whole, long dataStart, int cut) {
        try (GGUFFile f = SampleGGUF.parse(whole)) {
            for (TensorInfo t : f.tensors().values()) {
                long end = dataStart + t.offset() + t.byteSize();
                if (end > cut) {
                    return String.format(Locale.ROOT, "tensor %s: data ends at byte %,d past end of file (%,d)", t.name(), end, cut);
                }
            }
        }
        throw new AssertionError("no tensor ends past byte " + cut);
    }

    private static Throwable parse(byte[] file) {
        try {
            SampleGGUF.parse(file).close();
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    /** An accepted file must also be usable: every tensor sliced, every value printable. */
    private static Throwable parseAndUse(byte[] file) {
        try (GGUFFile f = SampleGGUF.parse(file)) {
            f.metadata().values().forEach(MetadataValue::toString);
            for (TensorInfo t : f.tensors().values()) {
                if (t.type() != null) f.tensorData(t);
            }
            return null;
        } catch (Throwable t) {
            return t;
        }
    }
}
