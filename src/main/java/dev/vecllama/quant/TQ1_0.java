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

    private static final ShortVector THREE = ShortVector.broadcast(SHORTS, (short) 3), NINE = ShortVector.broadcast(SHORTS, (short) 9);
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
     * Each multiplication by 3 brings the next trit into bits 8..9 of a 16-bit lane; the low byte
     * carries on to the trit after it. Chunks 5..7: positions below 16 take trits 0, 2, 4 of
     * qs[32 + p]; positions from 16 take trits 1, 3 of qs[32 + p − 16], then qh.
     */
    @Override
    ShortVector positions(MemorySegment w, long o, byte[] q, int i, int v) {
        int p = v * L;
        ShortVector s = ShortVector.zero(SHORTS), t = uint8(w, o + QS + p);
        for (int n = 0; n < 5; n++) {
            ShortVector t3 = t.mul(THREE);
            s = s.add(t3.lanewise(VectorOperators.LSHR, 8).mul(int8(q, i + 32 * n + p)));
            t = t3.and(LOW_BYTE);
        }
        return s.add(tail(w, o, q, i, p));
    }

    /**
     * Chunks 5..7, a helper of its own so that neither it nor {@link #positions} outgrows what C2
     * inlines into the dot. It calls the Vector API directly: one level more would pass C2's depth limit.
     */
    private static ShortVector tail(MemorySegment w, long o, byte[] q, int i, int p) {
        int half = p / 16;
        ShortVector s = ShortVector.zero(SHORTS);
        ShortVector t = (ShortVector) ByteVector.fromMemorySegment(BYTES, w, o + QS_TAIL + p % 16, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
        for (int n = half; n < 5; n += 2) {
            if (n > 0) t = t.mul(n == 1 ? THREE : NINE).and(LOW_BYTE);
            ShortVector a = (ShortVector) ByteVector.fromArray(BYTES, q, i + 160 + 32 * (n / 2) + p).convertShape(VectorOperators.B2S, SHORTS, 0);
            s = s.add(t.mul(THREE).lanewise(VectorOperators.LSHR, 8).mul(a));
        }
        return half == 0 ? s : s.add(qhTrits(w, o, p % 16)
                .mul((ShortVector) ByteVector.fromArray(BYTES, q, i + 224 + p).convertShape(VectorOperators.B2S, SHORTS, 0)));
    }

    /** The codes of chunk 7's positions 16 + m .. 16 + m + L − 1, from qh. */
    private static ShortVector qhTrits(MemorySegment w, long o, int m) {
        ShortVector qh = (ShortVector) IntVector.broadcast(QH_REPEAT, w.get(LE_INT, o + QH)).reinterpretShape(BYTES, 0)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
        return qh.mul(ShortVector.fromArray(SHORTS, QH_POW3, m)).and(LOW_BYTE).mul(THREE).lanewise(VectorOperators.LSHR, 8);
    }
}
