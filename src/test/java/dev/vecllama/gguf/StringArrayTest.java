package dev.vecllama.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** String arrays kept as their UTF-8 bytes: read from a file, compared, hashed and written back byte for byte. */
class StringArrayTest {
    private static final String[] TEXTS = {"<s>", "", "▁the", "日本", "a b"};

    @Test
    void holdsEachStringAndItsBytes() {
        StringArray a = StringArray.of(TEXTS);
        assertEquals(TEXTS.length, a.size());
        assertArrayEquals(TEXTS, a.toArray());
        for (int i = 0; i < TEXTS.length; i++) {
            byte[] b = TEXTS[i].getBytes(StandardCharsets.UTF_8);
            assertEquals(b.length, a.length(i));
            byte[] copy = new byte[b.length + 2];
            assertEquals(b.length + 1, a.copyTo(i, copy, 1));
            assertArrayEquals(b, Arrays.copyOfRange(copy, 1, b.length + 1));
            assertTrue(a.equals(i, copy, 1, b.length));
            assertEquals(Arrays.hashCode(b), a.hash(i), "the hash of the bytes, wherever they lie");
            assertEquals(a.hash(i), StringArray.hash(copy, 1, b.length));
        }
        assertFalse(a.equals(2, "▁th".getBytes(StandardCharsets.UTF_8), 0, "▁th".getBytes(StandardCharsets.UTF_8).length), "a prefix is another text");
        assertTrue(a.sameText(1, 1));
        assertFalse(a.sameText(0, 4));
    }

    @Test
    void malformedBytesStayAsTheyAre() {
        // Two bytes that are no UTF-8 each decode to U+FFFD, as Java decodes them, yet are two texts.
        StringArray a = new StringArray(new byte[] {(byte) 0xC3, (byte) 0xFF}, new int[] {1, 2});
        assertEquals(a.get(0), a.get(1));
        assertFalse(a.sameText(0, 1));
        GGUFFile f = GGUFFile.of(MemorySegment.ofArray(new GGUFWriter().put("k", MetadataValue.array(ValueType.STRING, a)).toBytes()));
        assertEquals(a, f.getStrings("k"), "written and read back byte for byte");
    }

    @Test
    void aFileOfStringsReadsBackTheSame() {
        byte[] file = new GGUFWriter().put("k", MetadataValue.array(ValueType.STRING, TEXTS)).toBytes();
        GGUFFile f = GGUFFile.of(MemorySegment.ofArray(file));
        assertEquals(StringArray.of(TEXTS), f.getStrings("k"));
        assertArrayEquals(TEXTS, f.getStringArray("k"));
        assertEquals(TEXTS.length, f.metadata().get("k").length());
        byte[] again = new GGUFWriter().putAll(f.metadata()).toBytes();
        assertArrayEquals(file, again, "copied from a file, the array is written as it was read");
    }

    @Test
    void aLaterStringLongerThanTheFileIsNamed() {
        byte[] file = RawGGUF.header(0, 1).key("k", ValueType.ARRAY).u32(ValueType.STRING.id).u64(2).str("ab").u64(100).zeros(8).bytes();
        GGUFFormatException e = assertThrows(GGUFFormatException.class, () -> GGUFFile.of(MemorySegment.ofArray(file)));
        assertTrue(e.getMessage().contains("length of k[1] 100"), e.getMessage());
    }
}
