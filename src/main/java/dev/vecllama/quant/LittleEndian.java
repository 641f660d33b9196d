package dev.vecllama.quant;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** GGUF's byte order for the scalar reads of several packed values at once. */
final class LittleEndian {
    private LittleEndian() {}

    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
}
