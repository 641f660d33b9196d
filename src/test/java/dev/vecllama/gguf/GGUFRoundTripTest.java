package dev.vecllama.gguf;

import static dev.vecllama.gguf.GGUFAssert.assertFails;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GGUFRoundTripTest {

    @ParameterizedTest(name = "alignment {0} (0 = default)")
    @ValueSource(ints = {0, 64, 1})
    void inMemoryRoundTripKeepsEveryValueTensorAndByte(int alignment) {
        GGUFWriter w = SampleGGUF.writer(alignment);
        byte[] bytes = w.toBytes();
        assertEquals(w.totalSize(), bytes.length);
        try (GGUFFile f = SampleGGUF.parse(bytes)) {
            assertEquals(bytes.length, f.fileSize());
            assertNull(f.path());
            assertSample(f, alignment == 0 ? GGUFFile.DEFAULT_ALIGNMENT : alignment);
        }
    }

    @Test
    void fileRoundTripThroughWriteAndOpen(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("sample.gguf");
        SampleGGUF.writer(64).write(out);
        assertEquals(List.of(out), listDir(dir), "the temporary file is renamed into place, nothing left behind");
        assertArrayEquals(SampleGGUF.bytes(64), Files.readAllBytes(out));
        try (GGUFFile f = GGUFFile.open(out)) {
            assertEquals(out, f.path());
            assertSample(f, 64);
        }
    }

    @Test
    void copyingAParsedFileReproducesItByteForByte() {
        byte[] original = SampleGGUF.bytes(64);
        try (GGUFFile f = SampleGGUF.parse(original)) {
            GGUFWriter copy = new GGUFWriter().putAll(f.metadataCopy());
            for (TensorInfo t : f.tensors().values()) copy.addTensor(t.name(), t.type(), t.dims(), f.tensorData(t));
            assertArrayEquals(original, copy.toBytes());
        }
    }

    @Test
    void typedGettersReadUnsignedValuesAsUnsignedAndRejectWrongTypes() {
        try (GGUFFile f = SampleGGUF.parse(SampleGGUF.bytes(0))) {
            assertEquals("llama", f.getString("general.architecture"));
            assertEquals(200, f.getInt("t.u8"));
            assertEquals(-5, f.getInt("t.i8"));
            assertEquals(60000, f.getInt("t.u16"));
            assertEquals(0xDEADBEEFL, f.getLong("t.u32"));
            assertEquals(-1L, f.metadata().get("t.u64").value(), "UINT64 keeps its bits");
            assertEquals(3.25f, f.getFloat("t.f32", 0));
            assertEquals(-123456f, f.getFloat("t.i32", 0));
            assertTrue(f.getBool("t.bool", false));
            assertEquals(7, f.getInt("absent", 7));
            assertArrayEquals(new int[] {0, 1, 255}, f.getIntArray("a.u8"));
            assertArrayEquals(new int[] {-128, 127}, f.getIntArray("a.i8"));
            assertArrayEquals(new int[] {65535, 7}, f.getIntArray("a.u16"));
            assertArrayEquals(new String[] {"<s>", "", "▁the", "日本"}, f.getStringArray("a.string"));
            assertArrayEquals(new float[] {(float) Math.PI, Float.NEGATIVE_INFINITY}, f.getFloatArray("a.f64"));

            assertFails(() -> f.getInt("t.u32"), "t.u32 = 3735928559 does not fit an int");
            assertFails(() -> f.getLong("t.string"), "metadata t.string is STRING, expected an integer");
            assertFails(() -> f.getLong("t.bool"), "metadata t.bool is BOOL, expected an integer");
            assertFails(() -> f.getString("t.u8"), "metadata t.u8 is UINT8, expected a string");
            assertFails(() -> f.getStringArray("a.i32"), "metadata a.i32 is an array of INT32, expected an array of strings");
            assertFails(() -> f.getLong("t.u64"), "metadata t.u64 = 18446744073709551615 does not fit a long");
            assertFails(() -> f.getInt("t.u64"), "metadata t.u64 = 18446744073709551615 does not fit a long");
            assertFails(() -> f.getIntArray("a.u32"), "metadata a.u32[0] = 4294967295 does not fit an int");
            assertFails(() -> f.getIntArray("a.u64"), "metadata a.u64[0] = 18446744073709551615 does not fit an int");
            assertFails(() -> f.getIntArray("a.i64"), "metadata a.i64[0] = -9223372036854775808 does not fit an int");
            assertArrayEquals(new int[] {Integer.MIN_VALUE, 0, Integer.MAX_VALUE}, f.getIntArray("a.i32"));
            assertFails(() -> f.getString("absent"), "missing metadata key absent");
        }
    }

    @Test
    void writerRefusesAnAlignmentItCouldNotPadTo() {
        GGUFWriter w = SampleGGUF.writer(0).put("general.alignment", MetadataValue.uint32(0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, w::toBytes);
        assertTrue(e.getMessage().contains("general.alignment 0 is not a power of two"), e.getMessage());
    }

    private static void assertSample(GGUFFile f, int alignment) {
        assertEquals(3, f.version());
        assertEquals(alignment, f.alignment());
        assertEquals(0, f.dataStart() % alignment);

        Map<String, MetadataValue> expected = SampleGGUF.metadata();
        if (alignment != GGUFFile.DEFAULT_ALIGNMENT) expected.put("general.alignment", MetadataValue.uint32(alignment));
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(f.metadata().keySet()), "file order is kept");
        expected.forEach((k, v) -> assertEquals(v, f.metadata().get(k), k));

        assertEquals(SampleGGUF.TENSORS.stream().map(SampleGGUF.Tensor::name).toList(), List.copyOf(f.tensors().keySet()));
        for (SampleGGUF.Tensor want : SampleGGUF.TENSORS) {
            TensorInfo t = f.tensor(want.name());
            assertArrayEquals(want.dims(), t.dims(), want.name());
            assertEquals(want.type(), t.type());
            assertEquals(want.type().id, t.typeId());
            assertEquals(want.data().length, t.byteSize());
            assertEquals(0, t.offset() % alignment, want.name() + " offset");
            assertEquals(0, (f.dataStart() + t.offset()) % alignment, want.name() + " absolute offset");
            assertEquals(want.dims()[0], t.cols());
            assertArrayEquals(want.data(), f.tensorData(t).toArray(ValueLayout.JAVA_BYTE), want.name() + " data");
        }
        assertEquals(Map.of("F32", 2, "F16", 1, "Q8_0", 1, "Q4_K", 1), f.tensorTypeCounts());
        assertFalse(f.has("absent"));
    }

    private static List<Path> listDir(Path dir) throws Exception {
        try (var s = Files.list(dir)) {
            return s.toList();
        }
    }
}
