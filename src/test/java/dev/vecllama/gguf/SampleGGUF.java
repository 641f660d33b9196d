package dev.vecllama.gguf;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A small valid GGUF that exercises every metadata value type and several tensor types. Kept to a
 * few KB so that tests can afford to parse every prefix of it and thousands of mutations.
 */
final class SampleGGUF {
    private SampleGGUF() {}

    record Tensor(String name, GGMLType type, long[] dims, byte[] data) {}

    /** Row lengths are block multiples; the last tensor's size is not a multiple of any alignment, so the file ends in padding. */
    static final List<Tensor> TENSORS = List.of(
            tensor("tok.f32", GGMLType.F32, 8, 3),
            tensor("blk.0.f16", GGMLType.F16, 16, 2),
            tensor("blk.0.q8_0", GGMLType.Q8_0, 64, 2),
            tensor("blk.0.q4_k", GGMLType.Q4_K, 256, 1, 2),
            tensor("norm", GGMLType.F32, 5));

    static Map<String, MetadataValue> metadata() {
        Map<String, MetadataValue> m = new LinkedHashMap<>();
        m.put("general.architecture", MetadataValue.string("llama"));
        m.put("t.u8", MetadataValue.of(ValueType.UINT8, (byte) 200));
        m.put("t.i8", MetadataValue.of(ValueType.INT8, (byte) -5));
        m.put("t.u16", MetadataValue.of(ValueType.UINT16, (short) 60000));
        m.put("t.i16", MetadataValue.of(ValueType.INT16, (short) -1234));
        m.put("t.u32", MetadataValue.uint32(0xDEADBEEF));
        m.put("t.i32", MetadataValue.of(ValueType.INT32, -123456));
        m.put("t.u64", MetadataValue.of(ValueType.UINT64, -1L));
        m.put("t.i64", MetadataValue.of(ValueType.INT64, Long.MIN_VALUE));
        m.put("t.f32", MetadataValue.float32(3.25f));
        m.put("t.f64", MetadataValue.of(ValueType.FLOAT64, -2.5e-300));
        m.put("t.bool", MetadataValue.of(ValueType.BOOL, true));
        m.put("t.string", MetadataValue.string("héllo ✓ 𝄞"));
        m.put("t.empty", MetadataValue.string(""));
        m.put("a.u8", MetadataValue.array(ValueType.UINT8, new byte[] {0, 1, (byte) 255}));
        m.put("a.i8", MetadataValue.array(ValueType.INT8, new byte[] {-128, 127}));
        m.put("a.u16", MetadataValue.array(ValueType.UINT16, new short[] {(short) 65535, 7}));
        m.put("a.i16", MetadataValue.array(ValueType.INT16, new short[] {-32768, 32767}));
        m.put("a.u32", MetadataValue.array(ValueType.UINT32, new int[] {-1, 42}));
        m.put("a.i32", MetadataValue.array(ValueType.INT32, new int[] {Integer.MIN_VALUE, 0, Integer.MAX_VALUE}));
        m.put("a.u64", MetadataValue.array(ValueType.UINT64, new long[] {-1L, 1L << 40}));
        m.put("a.i64", MetadataValue.array(ValueType.INT64, new long[] {Long.MIN_VALUE, Long.MAX_VALUE}));
        m.put("a.f32", MetadataValue.array(ValueType.FLOAT32, new float[] {-0.0f, 1.5f, Float.NaN, Float.NEGATIVE_INFINITY}));
        m.put("a.f64", MetadataValue.array(ValueType.FLOAT64, new double[] {Math.PI, -1e300}));
        m.put("a.bool", MetadataValue.array(ValueType.BOOL, new boolean[] {true, false, true}));
        m.put("a.string", MetadataValue.array(ValueType.STRING, new String[] {"<s>", "", "▁the", "日本"}));
        m.put("a.empty", MetadataValue.array(ValueType.INT32, new int[0]));
        m.put("a.nested", MetadataValue.array(ValueType.ARRAY, new MetadataValue[] {
                MetadataValue.array(ValueType.INT32, new int[] {1, 2, 3}),
                MetadataValue.array(ValueType.STRING, new String[] {"x", "yz"}),
                MetadataValue.array(ValueType.ARRAY, new MetadataValue[] {
                        MetadataValue.array(ValueType.FLOAT32, new float[] {0.5f})})}));
        return m;
    }

    /** The writer for the sample file; {@code alignment} 0 leaves general.alignment out (default 32). */
    static GGUFWriter writer(int alignment) {
        GGUFWriter w = new GGUFWriter().putAll(metadata());
        if (alignment != 0) w.put("general.alignment", MetadataValue.uint32(alignment));
        for (Tensor t : TENSORS) w.addTensor(t.name(), t.type(), t.dims(), MemorySegment.ofArray(t.data()));
        return w;
    }

    static byte[] bytes(int alignment) {
        return writer(alignment).toBytes();
    }

    static GGUFFile parse(byte[] bytes) {
        return GGUFFile.of(MemorySegment.ofArray(bytes));
    }

    private static Tensor tensor(String name, GGMLType type, long... dims) {
        long n = 1;
        for (long d : dims) n *= d;
        byte[] data = new byte[Math.toIntExact(type.bytesFor(n))];
        new SplittableRandom(name.hashCode()).nextBytes(data);
        return new Tensor(name, type, dims, data);
    }
}
