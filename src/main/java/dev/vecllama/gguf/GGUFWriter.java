package dev.vecllama.gguf;

import dev.vecllama.io.AtomicFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes GGUF v3 files. Tensor bytes are produced straight into the mapped output by each tensor's
 * {@link Filler}, so writing a multi-gigabyte model needs no heap copy. Files go to a temporary
 * name beside the target and are renamed only when complete.
 */
public final class GGUFWriter {

    /** Fills one tensor's data region (exactly {@code byteSize} bytes). */
    @FunctionalInterface
    public interface Filler {
        void fill(MemorySegment dst);
    }

    private record Pending(String name, long[] dims, GGMLType type, long byteSize, Filler filler) {}

    private final Map<String, MetadataValue> metadata = new LinkedHashMap<>();
    private final List<Pending> tensors = new ArrayList<>();
    private final Map<String, Boolean> names = new LinkedHashMap<>();

    public GGUFWriter put(String key, MetadataValue value) {
        metadata.put(key, value);
        return this;
    }

    public GGUFWriter putAll(Map<String, MetadataValue> values) {
        metadata.putAll(values);
        return this;
    }

    public GGUFWriter remove(String key) {
        metadata.remove(key);
        return this;
    }

    /** dims[0] is the row length, as in ggml. */
    public GGUFWriter addTensor(String name, GGMLType type, long[] dims, Filler filler) {
        if (names.put(name, Boolean.TRUE) != null) throw new IllegalArgumentException("duplicate tensor " + name);
        if (dims[0] % type.blockSize != 0) {
            throw new IllegalArgumentException("tensor " + name + ": row length " + dims[0] + " is not a multiple of " + type.blockSize);
        }
        tensors.add(new Pending(name, dims.clone(), type, type.tensorBytes(dims), filler));
        return this;
    }

    /** Copies an existing tensor's bytes. */
    public GGUFWriter addTensor(String name, GGMLType type, long[] dims, MemorySegment data) {
        return addTensor(name, type, dims, dst -> dst.copyFrom(data));
    }

    private int alignment() {
        MetadataValue a = metadata.get("general.alignment");
        if (a == null) return GGUFFile.DEFAULT_ALIGNMENT;
        try {
            return GGUFFile.checkedAlignment(a.asLong());
        } catch (GGUFFormatException e) {
            throw new IllegalArgumentException("cannot write: " + e.getMessage(), e);
        }
    }

    /** The metadata as written: the caller's, with the declarations of the vecllama types the tensors use. */
    private Map<String, MetadataValue> metadataToWrite() {
        return TypeDeclarations.declare(metadata, tensors.stream().map(Pending::type).toList());
    }

    private long headerSize(Map<String, MetadataValue> metadata) {
        long n = 4 + 4 + 8 + 8;
        for (var e : metadata.entrySet()) n += stringSize(e.getKey()) + 4 + valueSize(e.getValue());
        for (Pending t : tensors) n += stringSize(t.name) + 4 + 8L * t.dims.length + 4 + 8;
        return n;
    }

    /** The exact size of the file this writer produces. */
    public long totalSize() {
        long align = alignment();
        long pos = GGUFFile.alignUp(headerSize(metadataToWrite()), align);
        for (Pending t : tensors) pos = GGUFFile.alignUp(pos + t.byteSize, align);
        return pos;
    }

    /** Writes the whole file into {@code dst}, which must hold {@link #totalSize()} bytes. */
    public void writeTo(MemorySegment dst) {
        long align = alignment();
        Map<String, MetadataValue> metadata = metadataToWrite();
        Cursor c = new Cursor(dst);
        c.i32(GGUFFile.MAGIC);
        c.i32(3);
        c.i64(tensors.size());
        c.i64(metadata.size());
        for (var e : metadata.entrySet()) {
            c.string(e.getKey());
            c.i32(e.getValue().type().id);
            c.value(e.getValue());
        }
        long offset = 0;
        long[] offsets = new long[tensors.size()];
        for (int i = 0; i < tensors.size(); i++) {
            Pending t = tensors.get(i);
            c.string(t.name);
            c.i32(t.dims.length);
            for (long d : t.dims) c.i64(d);
            c.i32(t.type.id);
            c.i64(offset);
            offsets[i] = offset;
            offset = GGUFFile.alignUp(offset + t.byteSize, align);
        }
        long dataStart = GGUFFile.alignUp(c.pos, align);
        dst.asSlice(c.pos, dataStart - c.pos).fill((byte) 0);
        for (int i = 0; i < tensors.size(); i++) {
            Pending t = tensors.get(i);
            long at = dataStart + offsets[i];
            t.filler.fill(dst.asSlice(at, t.byteSize));
            long end = GGUFFile.alignUp(at + t.byteSize, align);
            dst.asSlice(at + t.byteSize, end - at - t.byteSize).fill((byte) 0);
        }
    }

    /** Writes to a temporary file beside {@code out} and renames it into place once complete. */
    public void write(Path out) {
        Path tmp = null;
        try {
            tmp = AtomicFile.temporaryBeside(out);
            long size = totalSize();
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.READ, StandardOpenOption.WRITE);
                 Arena arena = Arena.ofConfined()) {
                MemorySegment m = ch.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
                writeTo(m);
                m.force();
            }
            AtomicFile.commit(tmp, out);
            tmp = null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
        } finally {
            AtomicFile.discard(tmp);
        }
    }

    /** The file as bytes, for small files built in tests. */
    public byte[] toBytes() {
        long size = totalSize();
        byte[] b = new byte[Math.toIntExact(size)];
        writeTo(MemorySegment.ofArray(b));
        return b;
    }

    private static long stringSize(String s) {
        return 8 + s.getBytes(StandardCharsets.UTF_8).length;
    }

    private static long valueSize(MetadataValue v) {
        if (v.type() == ValueType.STRING) return stringSize((String) v.value());
        if (v.type() != ValueType.ARRAY) return v.type().size;
        long n = 4 + 8;
        Object a = v.value();
        switch (v.elementType()) {
            case STRING -> n += 8L * v.length() + ((StringArray) a).byteSize();
            case ARRAY -> { for (MetadataValue m : (MetadataValue[]) a) n += valueSize(m); }
            default -> n += (long) v.length() * v.elementType().size;
        }
        return n;
    }

    private static final class Cursor {
        final MemorySegment seg;
        long pos;

        Cursor(MemorySegment seg) {
            this.seg = seg;
        }

        void i8(byte v) { seg.set(ValueLayout.JAVA_BYTE, pos, v); pos += 1; }
        void i16(short v) { seg.set(ValueLayout.JAVA_SHORT_UNALIGNED, pos, v); pos += 2; }
        void i32(int v) { seg.set(ValueLayout.JAVA_INT_UNALIGNED, pos, v); pos += 4; }
        void i64(long v) { seg.set(ValueLayout.JAVA_LONG_UNALIGNED, pos, v); pos += 8; }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            string(b, 0, b.length);
        }

        void string(byte[] b, int off, int len) {
            i64(len);
            MemorySegment.copy(b, off, seg, ValueLayout.JAVA_BYTE, pos, len);
            pos += len;
        }

        void value(MetadataValue v) {
            Object o = v.value();
            switch (v.type()) {
                case UINT8, INT8 -> i8((Byte) o);
                case UINT16, INT16 -> i16((Short) o);
                case UINT32, INT32 -> i32((Integer) o);
                case UINT64, INT64 -> i64((Long) o);
                case FLOAT32 -> i32(Float.floatToRawIntBits((Float) o));
                case FLOAT64 -> i64(Double.doubleToRawLongBits((Double) o));
                case BOOL -> i8((byte) (((Boolean) o) ? 1 : 0));
                case STRING -> string((String) o);
                case ARRAY -> array(v);
            }
        }

        private void array(MetadataValue v) {
            i32(v.elementType().id);
            i64(v.length());
            Object a = v.value();
            switch (v.elementType()) {
                case UINT8, INT8 -> bulk(MemorySegment.ofArray((byte[]) a));
                case UINT16, INT16 -> bulk(MemorySegment.ofArray((short[]) a));
                case UINT32, INT32 -> bulk(MemorySegment.ofArray((int[]) a));
                case UINT64, INT64 -> bulk(MemorySegment.ofArray((long[]) a));
                case FLOAT32 -> bulk(MemorySegment.ofArray((float[]) a));
                case FLOAT64 -> bulk(MemorySegment.ofArray((double[]) a));
                case BOOL -> { for (boolean b : (boolean[]) a) i8((byte) (b ? 1 : 0)); }
                case STRING -> ((StringArray) a).forEach(this::string);
                case ARRAY -> {
                    for (MetadataValue m : (MetadataValue[]) a) {
                        array(m);
                    }
                }
            }
        }

        private void bulk(MemorySegment src) {
            MemorySegment.copy(src, 0, seg, pos, src.byteSize());
            pos += src.byteSize();
        }
    }
}
