package dev.vecllama.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vecllama.gguf.GGMLType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** One hand-made block per format, with the expected floats worked out from the layout by hand. */
class DequantizeTest {
    private final Arena arena = Arena.ofAuto();

    private MemorySegment block(GGMLType t) {
        return arena.allocate(t.typeSize);
    }

    private static void put(MemorySegment w, long off, int... bytes) {
        for (int i = 0; i < bytes.length; i++) w.set(ValueLayout.JAVA_BYTE, off + i, (byte) bytes[i]);
    }

    private static void half(MemorySegment w, long off, int bits) {
        w.set(Half.LE_SHORT, off, (short) bits);
    }

    private static float[] dequantize(GGMLType t, MemorySegment w, int n) {
        float[] out = new float[n + 2];
        WeightFormat.of(t).dequantize(w, 0, out, 1, n);
        assertEquals(0f, out[0], "wrote before dstOff");
        assertEquals(0f, out[n + 1], "wrote past n");
        return out;
    }

    @Test
    void f16() {
        MemorySegment w = arena.allocate(8);
        half(w, 0, 0x3C00); // 1
        half(w, 2, 0xC000); // -2
        half(w, 4, 0x0001); // smallest subnormal, 2^-24
        half(w, 6, 0x7BFF); // 65504
        float[] x = dequantize(GGMLType.F16, w, 4);
        assertEquals(1f, x[1]);
        assertEquals(-2f, x[2]);
        assertEquals(0x1p-24f, x[3]);
        assertEquals(65504f, x[4]);
    }

    @Test
    void bf16() {
        MemorySegment w = arena.allocate(4);
        half(w, 0, 0x3F80); // 1
        half(w, 2, 0xC040); // -3
        float[] x = dequantize(GGMLType.BF16, w, 2);
        assertEquals(1f, x[1]);
        assertEquals(-3f, x[2]);
    }

    @Test
    void q8_0() {
        MemorySegment w = block(GGMLType.Q8_0);
        half(w, 0, 0x3800); // d = 0.5
        put(w, 2, 0x80, 0xFF, 0x00, 0x01, 0x7F); // -128, -1, 0, 1, 127
        float[] x = dequantize(GGMLType.Q8_0, w, 32);
        assertEquals(-64f, x[1]);
        assertEquals(-0.5f, x[2]);
        assertEquals(0f, x[3]);
        assertEquals(0.5f, x[4]);
        assertEquals(63.5f, x[5]);
    }

    @Test
    void q4_0() {
        MemorySegment w = block(GGMLType.Q4_0);
        half(w, 0, 0x4000); // d = 2
        put(w, 2, 0x1F, 0x80); // byte 0: element 0 = 15, element 16 = 1; byte 1: element 1 = 0, element 17 = 8
        float[] x = dequantize(GGMLType.Q4_0, w, 32);
        assertEquals(14f, x[1]); // (15 - 8)·2
        assertEquals(-14f, x[1 + 16]); // (1 - 8)·2
        assertEquals(-16f, x[2]); // (0 - 8)·2
        assertEquals(0f, x[2 + 16]); // (8 - 8)·2
        assertEquals(-16f, x[3]); // untouched bytes are 0 → -8·2
    }

    @Test
    void q4_K() {
        MemorySegment w = block(GGMLType.Q4_K);
        half(w, 0, 0x3C00); // d = 1
        half(w, 2, 0x3800); // dmin = 0.5
        // scales[0] = 3 | top bits 01 (scale 4's bits 4..5); scales[1] = 4 → scale 1
        // scales[4] = 2 | top bits 10 (min 4's bits 4..5); scales[5] = 6 → min 1
        // scales[8] = 0x21: scale 4 low 1, min 4 low 2 → scale 4 = 17, min 4 = 34
        // scales[9] = 0x30: scale 5 = 0, min 5 = 3
        put(w, 4, 0x43, 4, 0, 0, 0x82, 6, 0, 0, 0x21, 0x30, 0, 0);
        put(w, 16, 0x5A); // qs[0]: element 0 (sub-block 0) = 10, element 32 (sub-block 1) = 5
        put(w, 16 + 64, 0x07); // qs[64]: element 128 (sub-block 4) = 7, element 160 (sub-block 5) = 0
        float[] x = dequantize(GGMLType.Q4_K, w, 256);
        assertEquals(29f, x[1]); // 1·3·10 − 0.5·2
        assertEquals(17f, x[1 + 32]); // 1·4·5 − 0.5·6
        assertEquals(102f, x[1 + 128]); // 1·17·7 − 0.5·34
        assertEquals(-1.5f, x[1 + 160]); // 1·0·0 − 0.5·3
        assertEquals(-1f, x[2]); // code 0 in sub-block 0: −0.5·2
    }

    @Test
    void q6_K() {
        MemorySegment w = block(GGMLType.Q6_K);
        half(w, 208, 0x3400); // d = 0.25
        put(w, 192, 2, 0, 7, 0, -3, 0, 1, 0, 5); // group scales 0, 2, 4, 6, 8
        put(w, 0, 0x3A); // ql[0]: element 0 low bits 10, element 64 low bits 3
        put(w, 32, 0x0F); // ql[32]: element 32 low bits 15, element 96 low bits 0
        put(w, 128, 0xE7); // qh[0] = 11 10 01 11: high bits of elements 0 (3), 32 (1), 64 (2), 96 (3)
        float[] x = dequantize(GGMLType.Q6_K, w, 256);
        assertEquals(13f, x[1]); // q = 10 | 3<<4 = 58; 0.25·2·(58 − 32)
        assertEquals(-1.75f, x[1 + 32]); // q = 15 | 1<<4 = 31; 0.25·7·(31 − 32)
        assertEquals(-2.25f, x[1 + 64]); // q = 3 | 2<<4 = 35; 0.25·(−3)·(35 − 32)
        assertEquals(4f, x[1 + 96]); // q = 0 | 3<<4 = 48; 0.25·1·(48 − 32)
        assertEquals(-40f, x[1 + 128]); // second half, q = 0; 0.25·5·(0 − 32)
    }
}
