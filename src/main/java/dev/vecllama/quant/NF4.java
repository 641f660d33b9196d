package dev.vecllama.quant;

import static dev.vecllama.quant.VectorMath.F8;
import static dev.vecllama.quant.VectorMath.I8;

import dev.vecllama.activation.Activation;
import dev.vecllama.activation.ActivationKind;
import dev.vecllama.gguf.GGMLType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * QLoRA's 4-bit NormalFloat: blocks of 64 weights, weight = d·{@link #CODEBOOK}[code], d the block's
 * absmax. Not a ggml type: vecllama quantizes to it on load ({@code --nf4}) or into a file
 * ({@code quantize ... NF4}), where it is one of vecllama's declared types ({@link GGMLType#NF4},
 * {@link GGMLType#NF4_DQ}, which size its rows).
 *
 * <p>Layout, per matrix row (rows are addressed as {@code row · rowBytes}, so a row holds everything
 * its dot product needs). Codes: 32 bytes per block; byte j holds weight j in its low nibble and
 * weight j + 32 in its high nibble (llama.cpp's Q4_0/IQ4_NL order), so 8 bytes unpack into two runs of
 * 8 consecutive weights with one mask and one shift.
 * <ul>
 * <li>{@link #INSTANCE}: each block is an f16 d, then its codes: 34 bytes, 4.25 bits per weight.
 *     bitsandbytes keeps d in f32; f16's 11 significant bits are far finer than a 4-bit code, and
 *     this way NF4 costs exactly what Q4_0 does.
 * <li>{@link #DOUBLE_QUANT}: bitsandbytes' double quantization of the scales. The blocks of a row
 *     form groups of up to 256; a group is an f32 step s, then per block an 8-bit c and its codes
 *     (33 bytes), d = c·s: 4.125 bits per weight plus 32 bits per group. Simpler than bitsandbytes
 *     (which quantizes absmax − mean with its 8-bit dynamic code): s = group absmax / 255 and c rounds
 *     the block's absmax up, so d ≥ absmax, no weight is clipped, and d overshoots by less than s.
 * </ul>
 *
 * <p>The dot product takes float activations ({@link ActivationKind#F32}): NF4 values are not
 * integers, so an int8 path would add an approximation of its own. Float order, in 8 lanes at every
 * vector width (so the scalar reference is one order for all widths): per block, lane l starts at 0 and
 * takes {@code fma(CODEBOOK[code], x, lane)} for the weights 8k + l and then 32 + 8k + l, k = 0..3;
 * then {@code acc_l = fma(d, lane, acc_l)}, blocks in order, and the result is {@link VectorMath#hsum8}.
 * The vector path looks the codes up with a two-vector {@code rearrange} (16 entries = two 8-lane
 * float vectors), so it computes exactly those floats.
 */
public final class NF4 implements WeightFormat, RowQuantizer {
    public static final NF4 INSTANCE = new NF4(false);
    public static final NF4 DOUBLE_QUANT = new NF4(true);

    /** bitsandbytes' NF4 table: quantiles of N(0, 1) scaled to [-1, 1], with an exact zero. */
    public static final float[] CODEBOOK = {
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
        0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};

    public static final int BLOCK = GGMLType.NF4.blockSize;
    /** Blocks per group of {@link #DOUBLE_QUANT}, and their 8-bit scales' largest code. */
    static final int GROUP = GGMLType.NF4_DQ.groupBlocks, SCALE_CODES = 255;
    private static final int CODE_BYTES = BLOCK / 2;
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Decision boundaries of round-to-nearest: MIDPOINTS[k] lies between codes k and k + 1. */
    private static final float[] MIDPOINTS = midpoints();

    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    private static final IntVector NIBBLE = IntVector.broadcast(I8, 0x0F);
    private static final FloatVector TABLE_LOW = FloatVector.fromArray(F8, CODEBOOK, 0), TABLE_HIGH = FloatVector.fromArray(F8, CODEBOOK, 8);

    private final boolean doubleQuant;
    /** Bytes before a block's codes: its f16 d, or its 8-bit c. */
    private final int header;
    private final int blockBytes;

    private NF4(boolean doubleQuant) {
        this.doubleQuant = doubleQuant;
        this.blockBytes = type().typeSize;
        this.header = blockBytes - type().blockSize / 2; // not CODE_BYTES: INSTANCE is built before it is set
    }

    @Override
    public GGMLType type() {
        return doubleQuant ? GGMLType.NF4_DQ : GGMLType.NF4;
    }

    @Override
    public long rowBytes(long cols) {
        blocks(cols);
        return type().rowBytes(cols);
    }

    @Override
    public ActivationKind activationKind() {
        return ActivationKind.F32;
    }

    @Override
    public String toString() {
        return doubleQuant ? "NF4 (double quantization)" : "NF4";
    }

    public double bitsPerWeight(long cols) {
        return 8.0 * rowBytes(cols) / cols;
    }

    private static long blocks(long cols) {
        if (cols % BLOCK != 0) throw new IllegalArgumentException("NF4 rows must be a multiple of " + BLOCK + " weights, not " + cols);
        return cols / BLOCK;
    }

    /** Where block b of the row at {@code row} starts: its header, then its codes. */
    private long block(long row, int b) {
        return doubleQuant ? row + (long) Float.BYTES * (b / GROUP + 1) + (long) blockBytes * b : row + (long) blockBytes * b;
    }

    /** Where the f32 step of block b's group lies ({@link #DOUBLE_QUANT} only). */
    private long step(long row, int b) {
        int g = b / GROUP;
        return row + (long) g * (Float.BYTES + (long) GROUP * blockBytes);
    }

    /** Block b's d; {@code o} is {@link #block}(row, b). */
    private float scale(MemorySegment w, long row, int b, long o) {
        if (!doubleQuant) return Half.f16(w, o);
        return Byte.toUnsignedInt(w.get(ValueLayout.JAVA_BYTE, o)) * w.get(LE_FLOAT, step(row, b));
    }

    /** Code of weight j (0 ≤ j < 64) of the block at {@code o}. */
    private int code(MemorySegment w, long o, int j) {
        int byt = w.get(ValueLayout.JAVA_BYTE, o + header + (j & 31));
        return j < 32 ? byt & 0x0F : (byt >> 4) & 0x0F;
    }

    @Override
    public void dequantize(MemorySegment w, long offset, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = block(offset, b);
            float d = scale(w, offset, b, o);
            for (int j = 0; j < BLOCK; j++) dst[dstOff + b * BLOCK + j] = d * CODEBOOK[code(w, o, j)];
        }
    }

    @Override
    public float dotReference(MemorySegment w, long offset, Activation a, int n) {
        float[] acc = new float[8];
        for (int b = 0; b < n / BLOCK; b++) {
            long o = block(offset, b);
            float d = scale(w, offset, b, o);
            int i = b * BLOCK;
            for (int l = 0; l < 8; l++) {
                float lane = 0;
                for (int k = 0; k < 4; k++) {
                    int j = 8 * k + l;
                    lane = Math.fma(CODEBOOK[code(w, o, j)], a.rounded[i + j], lane);
                    lane = Math.fma(CODEBOOK[code(w, o, j + 32)], a.rounded[i + j + 32], lane);
                }
                acc[l] = Math.fma(d, lane, acc[l]);
            }
        }
        return VectorMath.hsum8(acc);
    }

    @Override
    public float dot(MemorySegment w, long offset, Activation a, int n) {
        FloatVector acc = FloatVector.zero(F8);
        for (int b = 0; b < n / BLOCK; b++) {
            long o = block(offset, b);
            int i = b * BLOCK;
            FloatVector lane = FloatVector.zero(F8);
            for (int k = 0; k < 4; k++) {
                IntVector bytes = (IntVector) ByteVector.fromMemorySegment(B8, w, o + header + 8 * k, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I8, 0);
                lane = lookup(bytes.and(NIBBLE)).fma(FloatVector.fromArray(F8, a.rounded, i + 8 * k), lane);
                lane = lookup(bytes.lanewise(VectorOperators.LSHR, 4)).fma(FloatVector.fromArray(F8, a.rounded, i + 32 + 8 * k), lane);
            }
            acc = FloatVector.broadcast(F8, scale(w, offset, b, o)).fma(lane, acc);
        }
        return VectorMath.hsum8(acc);
    }

    /**
     * The codebook values of 8 codes (0..15). As a shuffle, codes 8..15 are out of range for 8 lanes:
     * they wrap to exceptional indexes, which the two-vector rearrange takes from the table's upper half.
     */
    private static FloatVector lookup(IntVector codes) {
        return TABLE_LOW.rearrange(codes.toShuffle().cast(F8), TABLE_HIGH);
    }

    private static float[] midpoints() {
        float[] m = new float[15];
        for (int k = 0; k < 15; k++) m[k] = (CODEBOOK[k] + CODEBOOK[k + 1]) / 2;
        return m;
    }

    /** The code nearest to v (ties to the lower code); v is a weight divided by its block's d. */
    static int nearest(float v) {
        int lo = 0, hi = 15;
        while (lo < hi) {
            int m = (lo + hi) >>> 1;
            if (v > MIDPOINTS[m]) lo = m + 1;
            else hi = m;
        }
        return lo;
    }

    /** Quantizes one row of n weights, {@code src[srcOff ..]}, into {@code dst} at {@code off} ({@link #rowBytes}(n) bytes). */
    @Override
    public void quantize(float[] src, int srcOff, int n, MemorySegment dst, long off) {
        int blocks = Math.toIntExact(blocks(n));
        float[] absmax = new float[blocks];
        for (int b = 0; b < blocks; b++) {
            float m = 0;
            for (int j = 0; j < BLOCK; j++) m = Math.max(m, Math.abs(src[srcOff + b * BLOCK + j]));
            if (!Float.isFinite(m)) throw new IllegalArgumentException("NF4: weight block " + b + " is not finite");
            absmax[b] = m;
        }
        for (int g = 0; g < blocks; g += GROUP) {
            float s = 0;
            if (doubleQuant) {
                for (int b = g; b < Math.min(blocks, g + GROUP); b++) s = Math.max(s, absmax[b]);
                s /= SCALE_CODES;
                dst.set(LE_FLOAT, step(off, g), s);
            }
            for (int b = g; b < Math.min(blocks, g + GROUP); b++) {
                long o = block(off, b);
                if (doubleQuant) {
                    dst.set(ValueLayout.JAVA_BYTE, o, (byte) scaleCode(absmax[b], s));
                } else {
                    short h = Float.floatToFloat16(absmax[b]);
                    if (Float.isInfinite(Float.float16ToFloat(h))) throw new IllegalArgumentException("NF4: block absmax " + absmax[b] + " exceeds f16");
                    dst.set(Half.LE_SHORT, o, h);
                }
                float d = scale(dst, off, b, o); // as stored: the d that dequantize and dot will use
                for (int j = 0; j < CODE_BYTES; j++) {
                    int lowCode = d == 0 ? 7 : nearest(src[srcOff + b * BLOCK + j] / d);
                    int highCode = d == 0 ? 7 : nearest(src[srcOff + b * BLOCK + j + 32] / d);
                    dst.set(ValueLayout.JAVA_BYTE, o + header + j, (byte) (lowCode | highCode << 4));
                }
            }
        }
    }

    /** The smallest 8-bit c with c·s ≥ m (255 if float rounding leaves even 255·s a hair short). */
    static int scaleCode(float m, float s) {
        if (s == 0) return 0;
        int c = (int) Math.min(SCALE_CODES, Math.ceil(m / s));
        while (c < SCALE_CODES && c * s < m) c++;
        return c;
    }
}
