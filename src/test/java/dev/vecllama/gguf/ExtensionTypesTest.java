package dev.vecllama.gguf;

import static dev.vecllama.gguf.GGUFAssert.assertFails;
import static dev.vecllama.gguf.GGUFAssert.assertRejected;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * vecllama's own tensor types in GGUF: the writer declares the ones a file uses, the reader sizes and
 * reads them back by that declaration, and without it they are unknown ids with a one-line error.
 */
class ExtensionTypesTest {
    private static final int NF4 = GGMLType.NF4.id, NF4_DQ = GGMLType.NF4_DQ.id;
    /** Two rows of 300 NF4_DQ blocks: a full group of 256 and one of 44, each with its 4-byte step. */
    private static final long DQ_COLS = 300 * 64;

    private static byte[] random(long n, long seed) {
        byte[] b = new byte[Math.toIntExact(n)];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** An NF4 tensor of 3 rows of 128, then an NF4_DQ one, then an F32 one that must still be found where it lies. */
    private static GGUFWriter writer() {
        return new GGUFWriter().put("general.name", MetadataValue.string("nf4 sample"))
                .addTensor("a", GGMLType.NF4, new long[] {128, 3}, MemorySegment.ofArray(random(3 * 2 * 34, 1)))
                .addTensor("b", GGMLType.NF4_DQ, new long[] {DQ_COLS, 2}, MemorySegment.ofArray(random(2 * (300 * 33 + 2 * 4), 2)))
                .addTensor("c", GGMLType.F32, new long[] {5}, MemorySegment.ofArray(new float[] {1, 2, 3, 4, 5}));
    }

    @Test
    void writtenTypesAreDeclaredAndReadBackBitExactly() {
        try (GGUFFile f = SampleGGUF.parse(writer().toBytes())) {
            assertEquals(GGMLType.NF4, f.tensor("a").type());
            assertEquals(GGMLType.NF4_DQ, f.tensor("b").type());
            assertArrayEquals(random(204, 1), bytes(f, "a"));
            assertArrayEquals(random(2 * 9908, 2), bytes(f, "b"));
            assertArrayEquals(new float[] {1, 2, 3, 4, 5}, f.tensorData(f.tensor("c")).toArray(ValueLayout.JAVA_FLOAT_UNALIGNED));
            assertArrayEquals(new int[] {NF4, NF4_DQ}, f.getIntArray("vecllama.tensor_types"));
            assertEquals("NF4_DQ", f.getString("vecllama.type." + NF4_DQ + ".name"));
            assertEquals(64, f.getInt("vecllama.type." + NF4_DQ + ".block_size"));
            assertEquals(33, f.getInt("vecllama.type." + NF4_DQ + ".block_bytes"));
            assertEquals(256, f.getInt("vecllama.type." + NF4_DQ + ".group_blocks"));
            assertEquals(4, f.getInt("vecllama.type." + NF4_DQ + ".group_bytes"));
            assertEquals(0, f.getInt("vecllama.type." + NF4 + ".group_blocks"));
            assertEquals("nf4 sample", f.getString("general.name"));
        }
    }

    private static byte[] bytes(GGUFFile f, String name) {
        return f.tensorData(f.tensor(name)).toArray(ValueLayout.JAVA_BYTE);
    }

    @Test
    void idsAreOutsideGgmlsRange() {
        for (GGMLType t : GGMLType.values()) {
            assertEquals(t == GGMLType.NF4 || t == GGMLType.NF4_DQ, t.isExtension(), t.name());
            assertEquals(t.isExtension() ? null : t, GGMLType.byId(t.id), "byId never answers a vecllama id");
        }
        assertTrue(NF4 > 1 << 30, "far above ggml's ids and the forks' (which reach the low hundreds)");
    }

    /** Undeclared, or declared under an id this reader does not know: an unknown type, an error only when the tensor is used. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void anUndeclaredIdIsAnUnknownTypeOnlyWhenUsed(boolean declaresAnother) {
        int other = NF4 + 100;
        RawGGUF raw = RawGGUF.header(2, declaresAnother ? 2 : 0);
        if (declaresAnother) list(raw, other).key("vecllama.type." + other + ".name", ValueType.STRING).str("NF4");
        byte[] file = raw.tensor("blk.0.attn_q.weight", NF4, 0, 64).tensor("norm", GGMLType.F32, 64, 4)
                .pad(32).zeros(64 + 16).bytes();
        try (GGUFFile f = SampleGGUF.parse(file)) {
            TensorInfo t = f.tensor("blk.0.attn_q.weight");
            assertNull(t.type());
            assertEquals(16, f.tensorData(f.tensor("norm")).byteSize(), "the other tensors stay usable");
            assertFails(() -> f.tensorData(t), "tensor blk.0.attn_q.weight: unknown tensor type id " + NF4
                    + " (vecllama's NF4, but the file does not declare it in vecllama.tensor_types)");
        }
    }

    private static RawGGUF list(RawGGUF raw, int... ids) {
        raw.key("vecllama.tensor_types", ValueType.ARRAY).u32(ValueType.UINT32.id).u64(ids.length);
        for (int id : ids) raw.u32(id);
        return raw;
    }

    /** A declaration that says other bytes than ours under our id would be misread: the file is refused. */
    @Test
    void aContradictingDeclarationIsRefused() {
        String key = "vecllama.type." + NF4;
        RawGGUF raw = list(RawGGUF.header(1, 6), NF4).key(key + ".name", ValueType.STRING).str("NF4")
                .kvU32(key + ".block_size", 64).kvU32(key + ".block_bytes", 35).kvU32(key + ".group_blocks", 0).kvU32(key + ".group_bytes", 0);
        assertRejected(raw.tensor("w", NF4, 0, 64).pad(32).zeros(35).bytes(), key + ".block_bytes is 35, but vecllama's NF4 has 34");
        RawGGUF renamed = list(RawGGUF.header(0, 2), NF4_DQ).key("vecllama.type." + NF4_DQ + ".name", ValueType.STRING).str("NF4");
        assertRejected(renamed.bytes(), "vecllama.type." + NF4_DQ + ".name is NF4, but vecllama's type " + NF4_DQ + " is NF4_DQ");
        assertRejected(list(RawGGUF.header(0, 1), 2).bytes(), "vecllama.tensor_types lists 2, which is ggml's Q4_0, not a vecllama type");
    }

    /** A copy whose vecllama tensors are gone must not keep claiming their types. */
    @Test
    void staleDeclarationsAreDropped() {
        try (GGUFFile f = SampleGGUF.parse(writer().toBytes())) {
            GGUFWriter copy = new GGUFWriter().putAll(f.metadataCopy()).addTensor("c", GGMLType.F32, new long[] {5}, f.tensorData(f.tensor("c")));
            try (GGUFFile g = SampleGGUF.parse(copy.toBytes())) {
                assertFalse(g.metadata().keySet().stream().anyMatch(k -> k.startsWith("vecllama.")), g.metadata().keySet().toString());
                assertEquals("nf4 sample", g.getString("general.name"));
            }
        }
    }
}
