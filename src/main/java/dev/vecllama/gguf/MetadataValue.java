package dev.vecllama.gguf;

import java.util.Arrays;

/**
 * One metadata value with its GGUF type, so that a copy of the file writes it back unchanged.
 * Scalars are boxed (unsigned types keep their bits: a UINT32 is an Integer, a UINT64 a Long).
 * Arrays are primitive arrays of the element type (byte[], short[], int[], long[], float[],
 * double[], boolean[]), a {@link StringArray} (given a String[], it is converted) or, for arrays of
 * arrays, MetadataValue[].
 */
public record MetadataValue(ValueType type, ValueType elementType, Object value) {
    public MetadataValue {
        if (value instanceof String[] strings) value = StringArray.of(strings);
    }

    public static MetadataValue of(ValueType type, Object value) {
        return new MetadataValue(type, null, value);
    }

    public static MetadataValue array(ValueType elementType, Object array) {
        return new MetadataValue(ValueType.ARRAY, elementType, array);
    }

    public static MetadataValue string(String s) {
        return of(ValueType.STRING, s);
    }

    public static MetadataValue uint32(int v) {
        return of(ValueType.UINT32, v);
    }

    public static MetadataValue float32(float v) {
        return of(ValueType.FLOAT32, v);
    }

    /** Number of elements of an array value. */
    public int length() {
        return value instanceof StringArray s ? s.size() : java.lang.reflect.Array.getLength(value);
    }

    /** The value as a long, for every integer type (unsigned ones read as unsigned). */
    public long asLong() {
        return switch (type) {
            case UINT8 -> ((Byte) value) & 0xFFL;
            case UINT16 -> ((Short) value) & 0xFFFFL;
            case UINT32 -> ((Integer) value) & 0xFFFF_FFFFL;
            case INT8, INT16, INT32, INT64, UINT64 -> ((Number) value).longValue();
            case BOOL -> ((Boolean) value) ? 1 : 0;
            default -> throw new GGUFFormatException("metadata value of type " + type + " is not an integer");
        };
    }

    @Override
    public String toString() {
        if (type != ValueType.ARRAY) return String.valueOf(value);
        int n = length();
        return "[" + elementType + " x " + n + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MetadataValue m && m.type == type && m.elementType == elementType
                && Arrays.deepEquals(new Object[] {value}, new Object[] {m.value});
    }

    @Override
    public int hashCode() {
        return Arrays.deepHashCode(new Object[] {type, elementType, value});
    }
}
