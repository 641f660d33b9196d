package dev.vecllama.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntToLongFunction;

/**
 * A GGUF file (v2 or v3), memory-mapped once. The header is parsed eagerly and every size in it is
 * checked against the file before use; tensor data is never copied, only sliced from the mapping.
 */
public final class GGUFFile implements AutoCloseable {
    public static final int MAGIC = 0x46554747; // "GGUF" little-endian
    public static final int DEFAULT_ALIGNMENT = 32;
    private static final int MAX_DIMS = 4;
    private static final int MAX_ALIGNMENT = 1 << 20;

    private final Path path;
    private final Arena arena;
    private final MemorySegment segment;
    private final int version;
    private final Map<String, MetadataValue> metadata;
    private final Map<String, TensorInfo> tensors;
    private final int alignment;
    private final long dataStart;

    private GGUFFile(Path path, Arena arena, MemorySegment segment) {
        this.path = path;
        this.arena = arena;
        this.segment = segment;
        Reader r = new Reader(segment);
        int magic = r.i32("magic");
        if (magic != MAGIC) throw new GGUFFormatException("not a GGUF file (bad magic)");
        version = r.i32("version");
        if (version == 1) throw new GGUFFormatException("GGUF version 1 is not supported (only 2 and 3)");
        if (version != 2 && version != 3) throw new GGUFFormatException("unsupported GGUF version " + version);
        long tensorCount = r.count("tensor count", 8 + 4 + 8 + 4 + 8);
        long kvCount = r.count("metadata count", 8 + 4);

        Map<String, MetadataValue> md = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = r.string("metadata key #" + i);
            int typeId = r.i32("type of " + key);
            MetadataValue v = r.value(key, typeId, 0);
            if (md.put(key, v) != null) throw new GGUFFormatException("duplicate metadata key " + key);
        }
        metadata = Collections.unmodifiableMap(md);

        alignment = checkedAlignment(getLong("general.alignment", DEFAULT_ALIGNMENT));

        Map<Integer, GGMLType> declared = TypeDeclarations.read(this);
        List<TensorInfo> infos = new ArrayList<>();
        for (long i = 0; i < tensorCount; i++) infos.add(r.tensorInfo(i, declared));
        long start = alignUp(r.pos, alignment);
        if (start > segment.byteSize() && tensorCount > 0) {
            throw new GGUFFormatException("tensor data section starts at byte " + fmt(start)
                    + " past end of file (" + fmt(segment.byteSize()) + ")");
        }
        dataStart = start;

        Map<String, TensorInfo> ts = new LinkedHashMap<>();
        for (TensorInfo t : infos) {
            if (t.offset() % alignment != 0) {
                throw new GGUFFormatException("tensor " + t.name() + ": offset " + t.offset()
                        + " is not a multiple of the alignment " + alignment);
            }
            if (t.type() != null) {
                long end = dataStart + t.offset() + t.byteSize(); // offset and size are each < 2^62
                if (end > segment.byteSize()) {
                    throw new GGUFFormatException("tensor " + t.name() + ": data ends at byte " + fmt(end)
                            + " past end of file (" + fmt(segment.byteSize()) + ")");
                }
            }
            if (ts.put(t.name(), t) != null) throw new GGUFFormatException("duplicate tensor name " + t.name());
        }
        tensors = Collections.unmodifiableMap(ts);
    }

    /** Alignments are powers of two; the bound keeps a hostile value from padding past any real file. */
    static int checkedAlignment(long a) {
        if (a <= 0 || a > MAX_ALIGNMENT || (a & (a - 1)) != 0) {
            throw new GGUFFormatException("general.alignment " + Long.toUnsignedString(a)
                    + " is not a power of two from 1 to " + fmt(MAX_ALIGNMENT));
        }
        return (int) a;
    }

    /** Maps and parses the file; any problem with it is a {@link GGUFFormatException} with a one-line message. */
    public static GGUFFile open(Path path) {
        if (Files.isDirectory(path)) throw new GGUFFormatException(path + ": is a directory, not a GGUF file");
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new GGUFFormatException(path + ": no such file");
        } catch (IOException e) {
            throw new GGUFFormatException(path + ": cannot open (" + e.getMessage() + ")");
        }
        Arena arena = Arena.ofShared();
        try (ch) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            return new GGUFFile(path, arena, seg);
        } catch (IOException e) {
            arena.close();
            throw new GGUFFormatException(path + ": cannot map (" + e.getMessage() + ")");
        } catch (GGUFFormatException e) {
            arena.close();
            throw new GGUFFormatException(path + ": " + e.getMessage());
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Parses a GGUF image that already lies in memory (tests, files we just wrote). */
    public static GGUFFile of(MemorySegment segment) {
        return new GGUFFile(null, null, segment);
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public int alignment() {
        return alignment;
    }

    public long dataStart() {
        return dataStart;
    }

    public long fileSize() {
        return segment.byteSize();
    }

    public MemorySegment segment() {
        return segment;
    }

    public Map<String, MetadataValue> metadata() {
        return metadata;
    }

    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    public TensorInfo tensor(String name) {
        return tensors.get(name);
    }

    /** The tensor's bytes, a slice of the mapping; fails with a clear line when its type is unknown. */
    public MemorySegment tensorData(TensorInfo t) {
        t.requireType();
        return segment.asSlice(dataStart + t.offset(), t.byteSize());
    }

    // ---- typed metadata access ---------------------------------------------------------------

    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    /** The raw value: boxed scalar, String, primitive array, {@link StringArray} or MetadataValue[]; null if absent. */
    public Object get(String key) {
        MetadataValue v = metadata.get(key);
        return v == null ? null : v.value();
    }

    private MetadataValue require(String key) {
        MetadataValue v = metadata.get(key);
        if (v == null) throw new GGUFFormatException("missing metadata key " + key);
        return v;
    }

    public String getString(String key) {
        MetadataValue v = require(key);
        if (v.type() != ValueType.STRING) throw wrongType(key, v, "a string");
        return (String) v.value();
    }

    public String getString(String key, String dflt) {
        return has(key) ? getString(key) : dflt;
    }

    public long getLong(String key) {
        MetadataValue v = require(key);
        return switch (v.type()) {
            case ARRAY, STRING, FLOAT32, FLOAT64, BOOL -> throw wrongType(key, v, "an integer");
            case UINT64 -> {
                long l = v.asLong();
                if (l < 0) throw new GGUFFormatException("metadata " + key + " = " + Long.toUnsignedString(l) + " does not fit a long");
                yield l;
            }
            default -> v.asLong();
        };
    }

    public long getLong(String key, long dflt) {
        return has(key) ? getLong(key) : dflt;
    }

    public int getInt(String key) {
        long v = getLong(key);
        if (v != (int) v) throw new GGUFFormatException("metadata " + key + " = " + v + " does not fit an int");
        return (int) v;
    }

    public int getInt(String key, int dflt) {
        return has(key) ? getInt(key) : dflt;
    }

    public float getFloat(String key, float dflt) {
        MetadataValue v = metadata.get(key);
        if (v == null) return dflt;
        return switch (v.type()) {
            case FLOAT32, FLOAT64 -> ((Number) v.value()).floatValue();
            case STRING, ARRAY, BOOL -> throw wrongType(key, v, "a number");
            default -> v.asLong();
        };
    }

    public boolean getBool(String key, boolean dflt) {
        MetadataValue v = metadata.get(key);
        if (v == null) return dflt;
        if (v.type() != ValueType.BOOL) throw wrongType(key, v, "a bool");
        return (Boolean) v.value();
    }

    /** A new array of the strings, each decoded; {@link #getStrings} keeps them as bytes. */
    public String[] getStringArray(String key) {
        StringArray a = getStrings(key);
        return a == null ? null : a.toArray();
    }

    public StringArray getStrings(String key) {
        MetadataValue v = metadata.get(key);
        if (v == null) return null;
        if (v.value() instanceof StringArray a) return a;
        throw wrongType(key, v, "an array of strings");
    }

    public float[] getFloatArray(String key) {
        MetadataValue v = metadata.get(key);
        if (v == null) return null;
        if (v.value() instanceof float[] a) return a;
        if (v.value() instanceof double[] d) {
            float[] a = new float[d.length];
            for (int i = 0; i < d.length; i++) a[i] = (float) d[i];
            return a;
        }
        throw wrongType(key, v, "an array of floats");
    }

    public int[] getIntArray(String key) {
        MetadataValue v = metadata.get(key);
        if (v == null) return null;
        boolean unsigned = switch (v.type() == ValueType.ARRAY ? v.elementType() : v.type()) {
            case UINT8, UINT16, UINT32, UINT64 -> true;
            default -> false;
        };
        Object a = v.value();
        if (a instanceof int[] i) return unsigned ? fitInts(key, i.length, k -> Integer.toUnsignedLong(i[k]), false) : i;
        if (a instanceof long[] l) return fitInts(key, l.length, k -> l[k], unsigned);
        if (a instanceof byte[] b) {
            int[] r = new int[b.length];
            for (int k = 0; k < b.length; k++) r[k] = unsigned ? b[k] & 0xFF : b[k];
            return r;
        }
        if (a instanceof short[] s) {
            int[] r = new int[s.length];
            for (int k = 0; k < s.length; k++) r[k] = unsigned ? s[k] & 0xFFFF : s[k];
            return r;
        }
        throw wrongType(key, v, "an array of integers");
    }

    /** Narrows to int, refusing values that would change: an unsigned 2^32-1 must not come back as -1. */
    private static int[] fitInts(String key, int n, IntToLongFunction at, boolean unsigned) {
        int[] r = new int[n];
        for (int k = 0; k < n; k++) {
            long x = at.applyAsLong(k);
            if (x != (int) x || (unsigned && x < 0)) {
                throw new GGUFFormatException("metadata " + key + "[" + k + "] = "
                        + (unsigned ? Long.toUnsignedString(x) : x) + " does not fit an int");
            }
            r[k] = (int) x;
        }
        return r;
    }

    private static GGUFFormatException wrongType(String key, MetadataValue v, String wanted) {
        String is = v.type() == ValueType.ARRAY ? "an array of " + v.elementType() : v.type().toString();
        return new GGUFFormatException("metadata " + key + " is " + is + ", expected " + wanted);
    }

    @Override
    public void close() {
        if (arena != null) arena.close();
    }

    public static long alignUp(long v, long alignment) {
        return (v + alignment - 1) / alignment * alignment;
    }

    static String fmt(long n) {
        return String.format(Locale.ROOT, "%,d", n); // ROOT: the same message on every machine
    }

    /** A cursor over the header that refuses to read, or to promise to read, past the file's end. */
    private static final class Reader {
        private final MemorySegment seg;
        private final long size;
        long pos;
        /** The bytes of the string being read, before they are decoded. */
        private byte[] text = new byte[64];

        Reader(MemorySegment seg) {
            this.seg = seg;
            this.size = seg.byteSize();
        }

        private void need(long n, String what) {
            if (n < 0 || n > size - pos) {
                throw new GGUFFormatException("truncated file: " + what + " at byte " + fmt(pos) + " needs "
                        + Long.toUnsignedString(n) + " bytes, only " + fmt(size - pos) + " left");
            }
        }

        byte i8(String what) {
            need(1, what);
            return seg.get(ValueLayout.JAVA_BYTE, pos++);
        }

        short i16(String what) {
            need(2, what);
            short v = seg.get(ValueLayout.JAVA_SHORT_UNALIGNED, pos);
            pos += 2;
            return v;
        }

        int i32(String what) {
            need(4, what);
            int v = seg.get(ValueLayout.JAVA_INT_UNALIGNED, pos);
            pos += 4;
            return v;
        }

        long i64(String what) {
            need(8, what);
            long v = seg.get(ValueLayout.JAVA_LONG_UNALIGNED, pos);
            pos += 8;
            return v;
        }

        /** A u64 count of items each at least {@code minItemBytes} long: bounded by what is left of the file. */
        long count(String what, long minItemBytes) {
            long n = i64(what);
            if (n < 0 || n > (size - pos) / minItemBytes) {
                throw new GGUFFormatException(what + " " + Long.toUnsignedString(n) + " at byte " + fmt(pos - 8)
                        + " cannot fit in the " + fmt(size - pos) + " bytes left");
            }
            return n;
        }

        /** A string named {@code what} in errors; its bytes go through one reused array. */
        String string(String what) {
            int n = stringLength(what, -1);
            if (text.length < n) text = new byte[Math.max(n, 2 * text.length)];
            MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, text, 0, n);
            pos += n;
            return new String(text, 0, n, StandardCharsets.UTF_8);
        }

        /**
         * An array of {@code len} strings as one {@link StringArray}: the lengths are checked in a first
         * pass, which sizes the array, and the bytes copied in a second. (As a String each, a Llama 3
         * vocabulary's ~400k strings took 227 ms to open in a fresh JVM.)
         */
        private StringArray strings(String key, int len) {
            long start = pos, total = 0;
            int[] ends = new int[len];
            for (int i = 0; i < len; i++) {
                int n = stringLength(key, i);
                total += n;
                if (total > Integer.MAX_VALUE - 8) throw new GGUFFormatException("metadata " + key + ": strings of more than 2 GiB in all");
                ends[i] = (int) total;
                pos += n;
            }
            byte[] bytes = new byte[(int) total];
            long p = start;
            for (int i = 0; i < len; i++) {
                int from = i == 0 ? 0 : ends[i - 1], n = ends[i] - from;
                MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, p + 8, bytes, from, n);
                p += 8 + n;
            }
            return new StringArray(bytes, ends);
        }

        /**
         * The length of the string at pos, checked against the file; pos moves past the length. Errors
         * name {@code what}, or its element {@code index} unless that is negative: the name is built
         * only for an error.
         */
        private int stringLength(String what, int index) {
            long len = size - pos >= 8 ? seg.get(ValueLayout.JAVA_LONG_UNALIGNED, pos) : -1;
            if (len >= 0 && len <= size - pos - 8) pos += 8;
            else len = count("length of " + name(what, index), 1); // throws: says what is wrong
            if (len > Integer.MAX_VALUE - 8) throw new GGUFFormatException(name(what, index) + ": string of " + fmt(len) + " bytes is too long");
            return (int) len;
        }

        private static String name(String what, int index) {
            return index < 0 ? what : what + "[" + index + "]";
        }

        private boolean bool(String key) {
            byte b = i8(key);
            if (b != 0 && b != 1) throw new GGUFFormatException("metadata " + key + ": bool value " + b);
            return b != 0;
        }

        MetadataValue value(String key, int typeId, int depth) {
            ValueType t = ValueType.byId(typeId);
            if (t == null) throw new GGUFFormatException("metadata " + key + ": unknown value type " + typeId);
            return switch (t) {
                case UINT8, INT8 -> MetadataValue.of(t, i8(key));
                case UINT16, INT16 -> MetadataValue.of(t, i16(key));
                case UINT32, INT32 -> MetadataValue.of(t, i32(key));
                case UINT64, INT64 -> MetadataValue.of(t, i64(key));
                case FLOAT32 -> MetadataValue.of(t, Float.intBitsToFloat(i32(key)));
                case FLOAT64 -> MetadataValue.of(t, Double.longBitsToDouble(i64(key)));
                case BOOL -> MetadataValue.of(t, bool(key));
                case STRING -> MetadataValue.of(t, string(key));
                case ARRAY -> array(key, depth);
            };
        }

        private MetadataValue array(String key, int depth) {
            if (depth > 8) throw new GGUFFormatException("metadata " + key + ": arrays nested deeper than 8");
            int elemId = i32("element type of " + key);
            ValueType et = ValueType.byId(elemId);
            if (et == null) throw new GGUFFormatException("metadata " + key + ": unknown array element type " + elemId);
            long minBytes = switch (et) {
                case STRING -> 8;
                case ARRAY -> 12;
                default -> et.size;
            };
            long n = count("metadata " + key + ": array length", minBytes);
            if (n > Integer.MAX_VALUE - 8) throw new GGUFFormatException("metadata " + key + ": array of " + n + " elements is too long");
            int len = (int) n;
            Object a = switch (et) {
                case UINT8, INT8 -> bulk(ValueLayout.JAVA_BYTE, len);
                case UINT16, INT16 -> bulk(ValueLayout.JAVA_SHORT_UNALIGNED, len);
                case UINT32, INT32 -> bulk(ValueLayout.JAVA_INT_UNALIGNED, len);
                case UINT64, INT64 -> bulk(ValueLayout.JAVA_LONG_UNALIGNED, len);
                case FLOAT32 -> bulk(ValueLayout.JAVA_FLOAT_UNALIGNED, len);
                case FLOAT64 -> bulk(ValueLayout.JAVA_DOUBLE_UNALIGNED, len);
                case BOOL -> {
                    boolean[] r = new boolean[len];
                    for (int i = 0; i < len; i++) r[i] = bool(key + "[" + i + "]");
                    yield r;
                }
                case STRING -> strings(key, len);
                case ARRAY -> {
                    MetadataValue[] r = new MetadataValue[len];
                    for (int i = 0; i < len; i++) {
                        r[i] = value(key + "[" + i + "]", ValueType.ARRAY.id, depth + 1);
                    }
                    yield r;
                }
            };
            return MetadataValue.array(et, a);
        }

        private Object bulk(ValueLayout layout, int len) {
            long bytes = (long) len * layout.byteSize();
            need(bytes, "array");
            MemorySegment s = seg.asSlice(pos, bytes);
            pos += bytes;
            return switch (layout) {
                case ValueLayout.OfByte b -> s.toArray(b);
                case ValueLayout.OfShort sh -> s.toArray(sh);
                case ValueLayout.OfInt i -> s.toArray(i);
                case ValueLayout.OfLong l -> s.toArray(l);
                case ValueLayout.OfFloat f -> s.toArray(f);
                case ValueLayout.OfDouble d -> s.toArray(d);
                default -> throw new IllegalStateException(layout.toString());
            };
        }

        /** {@code declared}: the vecllama types the file declares, by id; any other id outside ggml's is unknown. */
        TensorInfo tensorInfo(long index, Map<Integer, GGMLType> declared) {
            String name = string("name of tensor #" + index);
            int nDims = i32("dimension count of tensor " + name);
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw new GGUFFormatException("tensor " + name + ": " + nDims + " dimensions (1 to " + MAX_DIMS + " allowed)");
            }
            long[] dims = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                dims[d] = i64("dimension " + d + " of tensor " + name);
                if (dims[d] < 0) {
                    throw new GGUFFormatException("tensor " + name + ": dimension " + d + " is negative ("
                            + Long.toUnsignedString(dims[d]) + ")");
                }
                try {
                    elements = Math.multiplyExact(elements, dims[d]);
                } catch (ArithmeticException e) {
                    throw new GGUFFormatException("tensor " + name + ": element count overflows");
                }
            }
            int typeId = i32("type of tensor " + name);
            long offset = i64("offset of tensor " + name);
            if (offset < 0 || offset > size) {
                throw new GGUFFormatException("tensor " + name + ": data offset " + Long.toUnsignedString(offset)
                        + " is past end of file (" + fmt(size) + ")");
            }
            GGMLType type = GGMLType.byId(typeId);
            if (type == null) type = declared.get(typeId);
            long bytes = -1;
            if (type != null) {
                if (dims[0] % type.blockSize != 0) {
                    throw new GGUFFormatException("tensor " + name + ": row length " + dims[0]
                            + " is not a multiple of the " + type + " block size " + type.blockSize);
                }
                try {
                    bytes = type.tensorBytes(dims);
                } catch (ArithmeticException e) {
                    throw new GGUFFormatException("tensor " + name + ": byte size overflows");
                }
                if (bytes > size) {
                    throw new GGUFFormatException("tensor " + name + ": " + fmt(bytes) + " bytes of data cannot fit in a "
                            + fmt(size) + "-byte file");
                }
            }
            return new TensorInfo(name, dims, typeId, type, offset, bytes);
        }
    }

    /** Counts of tensors per type name (unknown ids as "type#N"), in first-seen order. */
    public Map<String, Integer> tensorTypeCounts() {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (TensorInfo t : tensors.values()) {
            String k = t.type() == null ? "type#" + t.typeId() : t.type().name();
            m.merge(k, 1, Integer::sum);
        }
        return m;
    }

    /** Shallow view used by writers: metadata in file order, mutable copy. */
    public Map<String, MetadataValue> metadataCopy() {
        return new LinkedHashMap<>(metadata);
    }
}
