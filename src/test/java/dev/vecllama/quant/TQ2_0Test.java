package dev.vecllama.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class TQ2_0Test extends TernaryTestBase {
    @Override
    Ternary format() {
        return TQ2_0.INSTANCE;
    }

    @Test
    void dequantizeHandBuiltBlock() {
        MemorySegment w = Arena.ofAuto().allocate(66);
        w.fill((byte) 0x55); // every code 1: weight 0
        w.set(ValueLayout.JAVA_BYTE, 0, (byte) 0b10_01_00_10); // elements 0, 32, 64, 96: codes 2, 0, 1, 2
        w.set(ValueLayout.JAVA_BYTE, 32 + 31, (byte) 0b00_01_01_01); // element 128 + 96 + 31 = 255: code 0
        RandomWeights.putF16(w, 64, 0.5f);
        float[] x = new float[258];
        TQ2_0.INSTANCE.dequantize(w, 0, x, 1, 256);
        assertEquals(0f, x[0]);
        assertEquals(0f, x[257]);
        assertEquals(0.5f, x[1]);
        assertEquals(-0.5f, x[1 + 32]);
        assertEquals(0f, x[1 + 64]);
        assertEquals(0.5f, x[1 + 96]);
        assertEquals(-0.5f, x[1 + 255]);
        assertEquals(0f, x[1 + 1]);
        assertEquals(0f, x[1 + 254]);
    }
}
