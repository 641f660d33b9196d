package dev.vecllama.gguf;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Writes GGUF headers field by field, so tests can say things GGUFWriter never would. */
final class RawGGUF {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** Magic, version 3 and the two counts. */
    static RawGGUF header(long tensorCount, long kvCount) {
        return new RawGGUF().u32(GGUFFile.MAGIC).u32(3).u64(tensorCount).u64(kvCount);
    }

    RawGGUF u8(int v) {
        out.write(v);
        return this;
    }

    RawGGUF u32(int v) {
        for (int i = 0; i < 4; i++) out.write(v >>> (8 * i));
        return this;
    }

    RawGGUF u64(long v) {
        for (int i = 0; i < 8; i++) out.write((int) (v >>> (8 * i)));
        return this;
    }

    RawGGUF str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        u64(b.length);
        out.writeBytes(b);
        return this;
    }

    /** A key and the type id of the value that the caller writes next. */
    RawGGUF key(String key, ValueType type) {
        return str(key).u32(type.id);
    }

    RawGGUF kvU32(String key, int v) {
        return key(key, ValueType.UINT32).u32(v);
    }

    RawGGUF tensor(String name, int typeId, long offset, long... dims) {
        str(name).u32(dims.length);
        for (long d : dims) u64(d);
        return u32(typeId).u64(offset);
    }

    RawGGUF tensor(String name, GGMLType type, long offset, long... dims) {
        return tensor(name, type.id, offset, dims);
    }

    /** Zero bytes up to the next multiple of {@code alignment}, where tensor data starts. */
    RawGGUF pad(int alignment) {
        return zeros((int) (GGUFFile.alignUp(out.size(), alignment) - out.size()));
    }

    RawGGUF zeros(int n) {
        out.writeBytes(new byte[n]);
        return this;
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}
