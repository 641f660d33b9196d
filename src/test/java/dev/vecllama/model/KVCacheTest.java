package dev.vecllama.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The cache keeps halves, and attention reads them back as exactly the floats they are. */
class KVCacheTest {

    @Test
    void everyHalfReadsBackAsFloat16ToFloat() { // NaNs as NaNs: Float.float16ToFloat also sets their quiet bit
        short[] all = new short[65536 + 5]; // and an odd tail past the vectors
        for (int i = 0; i < all.length; i++) all[i] = (short) i;
        float[] got = new float[all.length];
        for (int rep = 0; rep < 50; rep++) { // before and after C2 compiles the vector loop
            KVCache.toFloats(all, 0, got, all.length);
            for (int i = 0; i < all.length; i++) {
                int at = i;
                float want = Float.float16ToFloat(all[i]);
                if (Float.isNaN(want)) assertTrue(Float.isNaN(got[i]), () -> String.format("half 0x%04x is NaN", all[at] & 0xFFFF));
                else assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got[i]), () -> String.format("half 0x%04x", all[at] & 0xFFFF));
            }
        }
    }

    @Test
    void aHeadOfALayerAsFloats() {
        LlamaConfig c = new LlamaConfig("llama", 32, 2, 4, 2, 8, 64, 100, 16, 1e-5f, 10000f, 8, false); // 2 KV heads of 8
        KVCache cache = new KVCache(c, 5);
        int kvDim = c.kvDim();
        for (int p = 0; p < 3; p++) {
            float[] k = new float[kvDim], v = new float[kvDim];
            for (int i = 0; i < kvDim; i++) {
                k[i] = 0.1f * (p * kvDim + i) + 1e-3f;
                v[i] = -k[i] * 3;
            }
            cache.store(1, p, k, v);
        }
        float[] keys = new float[5 * kvDim], values = new float[5 * kvDim];
        java.util.Arrays.fill(keys, Float.NaN);
        int hd = c.headDim();
        cache.toFloats(cache.keys[1], hd, hd, 3, keys);
        cache.toFloats(cache.values[1], hd, hd, 3, values);
        for (int p = 0; p < 3; p++) {
            for (int i = 0; i < kvDim; i++) {
                int o = p * kvDim + i;
                float want = i >= hd && i < 2 * hd ? KVCache.toHalf(0.1f * o + 1e-3f) : Float.NaN;
                assertEquals(want, keys[o], "key at position " + p + ", element " + i);
            }
        }
        assertEquals(KVCache.toHalf(-(0.1f * (2 * kvDim + hd) + 1e-3f) * 3), values[2 * kvDim + hd]);
        assertEquals(2L * c.layers() * 5 * kvDim * 2, cache.byteSize(), "two bytes an element");
    }
}
