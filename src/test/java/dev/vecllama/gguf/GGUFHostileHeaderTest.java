package dev.vecllama.gguf;

import static dev.vecllama.gguf.GGUFAssert.assertFails;
import static dev.vecllama.gguf.GGUFAssert.assertRejected;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Headers written to make a careless reader allocate, loop, overflow or read out of bounds. */
class GGUFHostileHeaderTest {
    private static final long U64_MAX = -1L;

    @Test
    void emptyFileAndBadMagic() {
        assertRejected(new byte[0], "truncated file: magic at byte 0 needs 4 bytes, only 0 left");
        assertRejected(new byte[] {'G', 'G', 'U'}, "truncated file: magic");
        byte[] ggml = new RawGGUF().u32(0x67676d6c).u32(1).u64(0).u64(0).bytes();
        assertRejected(ggml, "not a GGUF file (bad magic)");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 4, 99, -1})
    void unsupportedVersions(int version) {
        byte[] file = new RawGGUF().u32(GGUFFile.MAGIC).u32(version).u64(0).u64(0).bytes();
        assertRejected(file, version == 1 ? "GGUF version 1 is not supported" : "unsupported GGUF version " + version);
    }

    @Test
    void version2IsAccepted() {
        byte[] file = new RawGGUF().u32(GGUFFile.MAGIC).u32(2).u64(0).u64(1).kvU32("k", 7).bytes();
        try (GGUFFile f = SampleGGUF.parse(file)) {
            assertEquals(2, f.version());
            assertEquals(7, f.getInt("k"));
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {Long.MAX_VALUE, U64_MAX, 1L << 32})
    void countsTheFileCannotHold(long count) {
        String n = Long.toUnsignedString(count);
        assertRejected(RawGGUF.header(0, count).bytes(), "metadata count " + n + " at byte 16 cannot fit in the 0 bytes left");
        assertRejected(RawGGUF.header(count, 0).bytes(), "tensor count " + n + " at byte 8 cannot fit in the 8 bytes left");
    }

    @ParameterizedTest
    @ValueSource(longs = {U64_MAX, Long.MIN_VALUE, 1L << 62, 17})
    void stringLengthsTheFileCannotHold(long length) {
        String n = Long.toUnsignedString(length);
        assertRejected(RawGGUF.header(0, 1).u64(length).u32(0).bytes(), "length of metadata key #0 " + n + " at byte 24 cannot fit");
        assertRejected(RawGGUF.header(0, 1).key("k", ValueType.STRING).u64(length).bytes(), "length of k " + n);
        assertRejected(RawGGUF.header(1, 0).u64(length).zeros(16).bytes(), "length of name of tensor #0 " + n);
        byte[] stringArray = RawGGUF.header(0, 1).key("k", ValueType.ARRAY).u32(ValueType.STRING.id).u64(1).u64(length).bytes();
        assertRejected(stringArray, "length of k[0] " + n);
    }

    static Stream<Arguments> hugeArrays() {
        return Stream.of(ValueType.values()).flatMap(t -> Stream.of(U64_MAX, Long.MAX_VALUE, 1L << 32, 65L)
                .map(len -> Arguments.of(t, len)));
    }

    @ParameterizedTest(name = "{0} x {1}")
    @MethodSource("hugeArrays")
    void arrayLengthsTheFileCannotHold(ValueType element, long length) {
        byte[] file = RawGGUF.header(0, 1).key("arr", ValueType.ARRAY).u32(element.id).u64(length).zeros(64).bytes();
        assertRejected(file, "metadata arr: array length " + Long.toUnsignedString(length) + " at byte 43 cannot fit in the 64 bytes left");
    }

    @Test
    void arraysNestedTooDeep() {
        RawGGUF raw = RawGGUF.header(0, 1).key("bomb", ValueType.ARRAY);
        for (int i = 0; i < 10_000; i++) raw.u32(ValueType.ARRAY.id).u64(1);
        raw.u32(ValueType.INT32.id).u64(0);
        assertRejected(raw.bytes(), "metadata bomb[0][0][0][0][0][0][0][0][0]: arrays nested deeper than 8");
    }

    @ParameterizedTest
    @ValueSource(ints = {13, 255, -1, Integer.MIN_VALUE})
    void unknownValueTypes(int typeId) {
        assertRejected(RawGGUF.header(0, 1).str("k").u32(typeId).u64(0).bytes(), "metadata k: unknown value type " + typeId);
        byte[] array = RawGGUF.header(0, 1).key("k", ValueType.ARRAY).u32(typeId).u64(0).bytes();
        assertRejected(array, "metadata k: unknown array element type " + typeId);
    }

    @Test
    void boolsOtherThanZeroOrOne() {
        assertRejected(RawGGUF.header(0, 1).key("b", ValueType.BOOL).u8(2).bytes(), "metadata b: bool value 2");
        byte[] array = RawGGUF.header(0, 1).key("b", ValueType.ARRAY).u32(ValueType.BOOL.id).u64(2).u8(1).u8(0x80).bytes();
        assertRejected(array, "metadata b[1]: bool value -128");
    }

    @Test
    void duplicateKeysAndTensorNames() {
        assertRejected(RawGGUF.header(0, 2).kvU32("a", 1).kvU32("a", 2).bytes(), "duplicate metadata key a");
        byte[] tensors = RawGGUF.header(2, 0).tensor("w", GGMLType.F32, 0, 8).tensor("w", GGMLType.F32, 32, 8)
                .pad(32).zeros(64).bytes();
        assertRejected(tensors, "duplicate tensor name w");
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 3, 48, 1L << 21, Long.MAX_VALUE})
    void alignmentsThatAreNotSmallPowersOfTwo(long alignment) {
        byte[] file = RawGGUF.header(0, 1).key("general.alignment", ValueType.UINT64).u64(alignment).bytes();
        assertRejected(file, "general.alignment " + Long.toUnsignedString(alignment) + " is not a power of two from 1 to 1,048,576");
    }

    @Test
    void alignmentOfTheWrongType() {
        byte[] string = RawGGUF.header(0, 1).key("general.alignment", ValueType.STRING).str("32").bytes();
        assertRejected(string, "metadata general.alignment is STRING, expected an integer");
        byte[] bool = RawGGUF.header(0, 1).key("general.alignment", ValueType.BOOL).u8(1).bytes();
        assertRejected(bool, "metadata general.alignment is BOOL, expected an integer");
        byte[] u64max = RawGGUF.header(0, 1).key("general.alignment", ValueType.UINT64).u64(U64_MAX).bytes();
        assertRejected(u64max, "metadata general.alignment = 18446744073709551615 does not fit a long");
    }

    @ParameterizedTest
    @ValueSource(ints = {5, 0, -1})
    void dimensionCountsOutsideOneToFour(int nDims) {
        byte[] file = RawGGUF.header(1, 0).str("w").u32(nDims).u64(1).u64(1).u64(1).u64(1).u64(1).bytes();
        assertRejected(file, "tensor w: " + nDims + " dimensions (1 to 4 allowed)");
    }

    @Test
    void dimensionsThatAreNegativeOrTooLarge() {
        assertRejected(tensorFile(GGMLType.F32, 0, 4, -2), "tensor w: dimension 1 is negative (18446744073709551614)");
        assertRejected(tensorFile(GGMLType.F32, 0, 1L << 32, 1L << 32), "tensor w: element count overflows");
        assertRejected(tensorFile(GGMLType.F32, 0, 1L << 31, 1L << 30), "tensor w: byte size overflows");
        assertRejected(tensorFile(GGMLType.F32, 0, 1L << 20), "tensor w: 4,194,304 bytes of data cannot fit in a 96-byte file");
        assertRejected(tensorFile(GGMLType.Q8_0, 0, 33, 2), "tensor w: row length 33 is not a multiple of the Q8_0 block size 32");
    }

    @ParameterizedTest
    @ValueSource(longs = {1L << 40, 97, U64_MAX, Long.MIN_VALUE})
    void offsetsPastTheEndOfTheFile(long offset) {
        assertRejected(tensorFile(GGMLType.F32, offset, 8),
                "tensor w: data offset " + Long.toUnsignedString(offset) + " is past end of file (96)");
    }

    @Test
    void dataEndingPastTheEndOfTheFile() {
        byte[] file = RawGGUF.header(1, 0).tensor("w", GGMLType.F32, 0, 256).pad(32).zeros(1000).bytes();
        assertEquals(1064, file.length);
        assertRejected(file, "tensor w: data ends at byte 1,088 past end of file (1,064)");
    }

    @Test
    void dataSectionStartingPastTheEndOfTheFile() {
        byte[] file = RawGGUF.header(1, 0).tensor("w", GGMLType.F32, 0, 0).bytes();
        assertRejected(file, "tensor data section starts at byte 64 past end of file (57)");
    }

    @Test
    void offsetsNotOnTheAlignment() {
        byte[] byDefault = RawGGUF.header(2, 0).tensor("a", GGMLType.F32, 0, 1).tensor("b", GGMLType.F32, 4, 1)
                .pad(32).zeros(64).bytes();
        assertRejected(byDefault, "tensor b: offset 4 is not a multiple of the alignment 32");
        byte[] declared = RawGGUF.header(1, 1).kvU32("general.alignment", 64).tensor("w", GGMLType.F32, 32, 8)
                .pad(64).zeros(128).bytes();
        assertRejected(declared, "tensor w: offset 32 is not a multiple of the alignment 64");
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 36, 99, -1})
    void unknownTensorTypesFailOnlyWhenUsed(int typeId) {
        byte[] file = RawGGUF.header(1, 0).tensor("w", typeId, 0, 32).pad(32).zeros(32).bytes();
        try (GGUFFile f = SampleGGUF.parse(file)) {
            TensorInfo t = f.tensor("w");
            assertNull(t.type());
            assertEquals(typeId, t.typeId());
            assertEquals(Map.of("type#" + typeId, 1), f.tensorTypeCounts());
            String message = "tensor w: unknown tensor type id " + typeId;
            assertFails(() -> f.tensorData(t), message);
            assertFails(t::requireType, message);
        }
    }

    @ParameterizedTest
    @EnumSource(value = GGMLType.class, names = {"F32", "Q4_K", "TQ1_0"})
    void smallestValidFileOfEachLayout(GGMLType type) {
        byte[] file = RawGGUF.header(1, 0).tensor("w", type, 0, type.blockSize).pad(32).zeros(type.typeSize).bytes();
        try (GGUFFile f = SampleGGUF.parse(file)) {
            assertEquals(type.typeSize, f.tensorData(f.tensor("w")).byteSize());
        }
    }

    @Test
    void namesWithLineBreaksDoNotBreakTheOneLineMessage() {
        byte[] file = RawGGUF.header(2, 0).tensor("evil\nname\u2028", GGMLType.F32, 0, 8)
                .tensor("evil\nname\u2028", GGMLType.F32, 32, 8).pad(32).zeros(64).bytes();
        assertRejected(file, "duplicate tensor name evil\\u000aname\\u2028");
        byte[] key = RawGGUF.header(0, 1).str("k\r\u001b[2J").u32(77).bytes();
        assertRejected(key, "metadata k\\u000d\\u001b[2J: unknown value type 77");
    }

    @Test
    void hugeNamesAreCutToAReadableMessage() {
        String name = "n".repeat(1 << 20);
        byte[] file = RawGGUF.header(0, 1).str(name).u32(77).bytes();
        GGUFFormatException e = assertRejected(file, "metadata nnnn", "chars cut", "nnnn: unknown value type 77");
        assertTrue(e.getMessage().length() < 500, "message of " + e.getMessage().length() + " chars");
    }

    /** One tensor "w" after a 57-byte header (for one dimension), padded to 64, then 32 bytes of data: 96 bytes in all. */
    private static byte[] tensorFile(GGMLType type, long offset, long... dims) {
        RawGGUF raw = RawGGUF.header(1, 0).tensor("w", type, offset, dims).pad(32);
        return raw.zeros(96 - raw.bytes().length).bytes();
    }
}
