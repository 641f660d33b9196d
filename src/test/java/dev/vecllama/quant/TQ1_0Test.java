package dev.vecllama.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TQ1_0Test extends TernaryTestBase {
    @Override
    Ternary format() {
        return TQ1_0.INSTANCE;
    }

    /** llama.cpp's packing of k trits (most significant first) into a byte's fixed-point fraction. */
    private static int pack(int... trits) {
        int v = 0;
        for (int t : trits) v = 3 * v + t;
        for (int k = trits.length; k < 5; k++) v *= 3; // fewer than 5 trits sit in the top digits
        return (v * 256 + 242) / 243;
    }

    @Test
    void dequantizeHandBuiltBlock() {
        MemorySegment w = Arena.ofAuto().allocate(54);
        w.fill((byte) pack(1, 1, 1, 1, 1));
        w.set(ValueLayout.JAVA_BYTE, 48, (byte) pack(1, 1, 1, 1));
        w.set(ValueLayout.JAVA_BYTE, 49, (byte) pack(1, 1, 1, 1));
        w.set(ValueLayout.JAVA_BYTE, 50, (byte) pack(1, 1, 1, 1));
        w.set(ValueLayout.JAVA_BYTE, 51, (byte) pack(1, 1, 1, 1));
        w.set(ValueLayout.JAVA_BYTE, 0, (byte) pack(2, 0, 1, 1, 2)); // elements 0, 32, 64, 96, 128
        w.set(ValueLayout.JAVA_BYTE, 32 + 15, (byte) pack(0, 2, 1, 1, 0)); // elements 175, 191, 207, 223, 239
        w.set(ValueLayout.JAVA_BYTE, 48 + 3, (byte) pack(2, 1, 1, 0)); // elements 243, 247, 251, 255
        RandomWeights.putF16(w, 52, 2f);
        float[] x = new float[258];
        TQ1_0.INSTANCE.dequantize(w, 0, x, 1, 256);
        assertEquals(0f, x[0]);
        assertEquals(0f, x[257]);
        float[] want = new float[256];
        want[0] = 2;
        want[32] = -2;
        want[128] = 2;
        want[175] = -2;
        want[191] = 2;
        want[239] = -2;
        want[243] = 2;
        want[255] = -2;
        for (int j = 0; j < 256; j++) assertEquals(want[j], x[1 + j], "element " + j);
    }

    /** Every packed byte decodes back to its trits, for 5 trits (qs) and 4 trits (qh). */
    @Test
    void everyTritCombinationRoundTrips() {
        MemorySegment w = Arena.ofAuto().allocate(54);
        for (int v = 0; v < 243; v++) {
            int[] t = {v / 81, v / 27 % 3, v / 9 % 3, v / 3 % 3, v % 3};
            w.set(ValueLayout.JAVA_BYTE, 0, (byte) pack(t));
            w.set(ValueLayout.JAVA_BYTE, 48, (byte) pack(t[1], t[2], t[3], t[4]));
            for (int n = 0; n < 5; n++) assertEquals(t[n], TQ1_0.INSTANCE.code(w, 0, 32 * n), "byte for " + v + ", trit " + n);
            for (int n = 0; n < 4; n++) assertEquals(t[n + 1], TQ1_0.INSTANCE.code(w, 0, 240 + 4 * n), "qh byte for " + v + ", trit " + n);
        }
    }

    /** Element order against a decoder written the way llama.cpp's dequantize_row_tq1_0 walks the block. */
    @Test
    void elementOrderFollowsLlamaCpp() {
        MemorySegment w = Arena.ofAuto().allocate(54);
        byte[] b = new byte[54];
        new Random(7).nextBytes(b);
        MemorySegment.copy(MemorySegment.ofArray(b), 0, w, 0, 54);
        RandomWeights.putF16(w, 52, 1f);
        int[] pow3 = {1, 3, 9, 27, 81};
        float[] want = new float[256];
        int y = 0;
        for (int n = 0; n < 5; n++) for (int m = 0; m < 32; m++) want[y++] = trit(b[m], pow3[n]) - 1;
        for (int n = 0; n < 5; n++) for (int m = 0; m < 16; m++) want[y++] = trit(b[32 + m], pow3[n]) - 1;
        for (int n = 0; n < 4; n++) for (int j = 0; j < 4; j++) want[y++] = trit(b[48 + j], pow3[n]) - 1;
        float[] x = new float[256];
        TQ1_0.INSTANCE.dequantize(w, 0, x, 0, 256);
        for (int j = 0; j < 256; j++) assertEquals(want[j], x[j], "element " + j);
    }

    private static int trit(byte b, int pow3) {
        return (((b & 0xFF) * pow3 & 0xFF) * 3) >> 8;
    }
}
