package dev.vecllama.model;

/**
 * Keys and values of every past position, per layer, row-major by position:
 * {@code keys[layer][pos * kvDim + head * headDim + i]}. Values are rounded to half precision as
 * they are stored, like llama.cpp's default f16 cache, so attention sees the numbers it sees.
 */
public final class KVCache {
    public final float[][] keys;
    public final float[][] values;
    public final int capacity;
    public final int kvDim;

    public KVCache(LlamaConfig c, int capacity) {
        this.capacity = capacity;
        this.kvDim = c.kvDim();
        long floats = (long) capacity * kvDim;
        if (floats > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("context of " + capacity + " positions is too large for one KV cache");
        }
        keys = new float[c.layers()][(int) floats];
        values = new float[c.layers()][(int) floats];
    }

    public void store(int layer, int pos, float[] k, float[] v) {
        int o = pos * kvDim;
        float[] kc = keys[layer], vc = values[layer];
        for (int i = 0; i < kvDim; i++) {
            kc[o + i] = toHalf(k[i]);
            vc[o + i] = toHalf(v[i]);
        }
    }

    /** x rounded to the nearest half-precision value. */
    static float toHalf(float x) {
        return Float.float16ToFloat(Float.floatToFloat16(x));
    }

    public long byteSize() {
        return 2L * keys.length * capacity * kvDim * Float.BYTES;
    }
}
