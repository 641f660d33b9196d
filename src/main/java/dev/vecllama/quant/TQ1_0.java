package dev.vecllama.quant;

import dev.vecllama.gguf.GGMLType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * BitNet b1.58 ternary weights in base 3 (1.69 bits per weight): blocks of 256 as qs[48] with 5
 * trits per byte, qh[4] with 4 trits per byte, then f16 d. A byte holding trits t0..tk (t0 most
 * significant) stores ⌈(Σ t·3^(k−i))·256 / 3^(k+1)⌉, a fixed-point fraction of 1, so trit n comes out
 * of the top of the byte after n multiplications by 3: ((byte·3^n mod 256)·3) >> 8.
 *
 * <p>Element order: qs[0..31] hold elements 32n + m (trit n, n < 5) — chunks 0..4; qs[32..47] hold
 * elements 160 + 16n + m — the two halves of chunks 5, 6 and the first half of chunk 7; qh[j] holds
 * elements 240 + 4n + j — the second half of chunk 7.
 */
public final class TQ1_0 extends Ternary {
    public static final TQ1_0 INSTANCE = new TQ1_0();

    static final int BLOCK_BYTES = 54;
    static final int QS = 0, QS_TAIL = 32, QH = 48;
    private static final int D = 52;
    private static final int[] POW3 = {1, 3, 9, 27, 81};

    private static final ShortVector THREE = ShortVector.broadcast(SHORTS, (short) 3);
    private static final ShortVector LOW_BYTE = ShortVector.broadcast(SHORTS, (short) 0xFF);
    /** The 4 bytes of qh repeated across a half-width vector, so position 16 + p reads qh[p mod 4]. */
    private static final VectorSpecies<Integer> QH_REPEAT = VectorSpecies.of(int.class, VectorShape.forBitSize(BITS / 2));
    /** 3^(p / 4) for position 16 + p: qh[p mod 4]'s trit p / 4. */
    private static final short[] QH_POW3 = {1, 1, 1, 1, 3, 3, 3, 3, 9, 9, 9, 9, 27, 27, 27, 27};
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TQ1_0() {
        super(BLOCK_BYTES, D);
    }

    @Override
    public GGMLType type() {
        return GGMLType.TQ1_0;
    }

    @Override
    int code(MemorySegment w, long o, int j) {
        int off, n;
        if (j < 160) {
            off = QS + j % 32;
            n = j / 32;
        } else if (j < 240) {
            off = QS_TAIL + (j - 160) % 16;
            n = (j - 160) / 16;
        } else {
            off = QH + (j - 240) % 4;
            n = (j - 240) / 4;
        }
        int t = (Byte.toUnsignedInt(w.get(ValueLayout.JAVA_BYTE, o + off)) * POW3[n]) & 0xFF;
        return (t * 3) >> 8;
    }

    /**
     * Every chunk's codes come out of one of three byte vectors: qs for chunks 0..4 (trit n = chunk),
     * qs[32..] for chunks 5..7 (trit 2·(chunk − 5), or one more in the second half of a chunk), and,
     * for the second half of chunk 7, the qh bytes already multiplied by their lanes' own powers of 3.
     * A loop per source (parsed once each) keeps the kernel within C2's inlining budget, and no vector
     * is chosen between inside a loop: C2 boxes such a vector, allocating on every iteration.
     */
    @Override
    ShortVector positions(MemorySegment w, long o, byte[] q, int i, int v) {
        int p = v * L, high = p / 16;
        ShortVector s = ShortVector.zero(SHORTS), qs = uint8(w, o + QS + p);
        for (int c = 0; c < 5; c++) s = s.add(trit(qs, c).mul(int8(q, i + 32 * c + p)));
        ShortVector tail = uint8(w, o + QS_TAIL + p % 16);
        for (int c = 5; c < 8 - high; c++) s = s.add(trit(tail, 2 * (c - 5) + high).mul(int8(q, i + 32 * c + p)));
        return high == 0 ? s : s.add(trit(qhBytes(w, o, p % 16), 0).mul(int8(q, i + 224 + p)));
    }

    /** Trit n of each byte lane (a code 0..2): ((byte·3^n mod 256)·3) >> 8. */
    private static ShortVector trit(ShortVector bytes, int n) {
        return bytes.mul(ShortVector.broadcast(SHORTS, (short) POW3[n])).and(LOW_BYTE).mul(THREE).lanewise(VectorOperators.LSHR, 8);
    }

    /** For positions 16 + m .. 16 + m + L − 1 of chunk 7: qh[(m + lane) mod 4]·3^((m + lane) / 4) mod 256. */
    private static ShortVector qhBytes(MemorySegment w, long o, int m) {
        ShortVector qh = (ShortVector) IntVector.broadcast(QH_REPEAT, w.get(LE_INT, o + QH)).reinterpretShape(BYTES, 0)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
        return qh.mul(ShortVector.fromArray(SHORTS, QH_POW3, m)).and(LOW_BYTE);
    }
}
