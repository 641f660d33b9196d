package dev.vecllama.quant;

import dev.vecllama.gguf.GGMLType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * BitNet b1.58 ternary weights at 2 bits each (2.06 bits per weight): blocks of 256 as qs[64], then
 * f16 d. Each half of 128 weights is one 32-byte run of qs: element 32l + m of the half is bits 2l,
 * 2l + 1 of byte m, a code in {0, 1, 2} for the weight d·(code − 1). So chunk c (32 weights) is the
 * bit pair c mod 4 of run c / 4, and its position m is byte m of that run.
 */
public final class TQ2_0 extends Ternary {
    public static final TQ2_0 INSTANCE = new TQ2_0();

    static final int BLOCK_BYTES = 66;
    private static final int D = 64;

    private static final ShortVector TWO_BITS = ShortVector.broadcast(SHORTS, (short) 3);

    private TQ2_0() {
        super(BLOCK_BYTES, D);
    }

    @Override
    public GGMLType type() {
        return GGMLType.TQ2_0;
    }

    @Override
    int code(MemorySegment w, long o, int j) {
        int run = j / 128, l = (j % 128) / 32, m = j % 32;
        return (w.get(ValueLayout.JAVA_BYTE, o + 32 * run + m) >> (2 * l)) & 3;
    }

    @Override
    ShortVector positions(MemorySegment w, long o, byte[] q, int i, int v) {
        ShortVector s = ShortVector.zero(SHORTS);
        for (int run = 0; run < 2; run++) {
            ShortVector bytes = uint8(w, o + 32 * run + v * L);
            for (int l = 0; l < 4; l++) {
                ShortVector codes = bytes.lanewise(VectorOperators.LSHR, 2 * l).and(TWO_BITS);
                s = s.add(codes.mul(int8(q, i + 128 * run + 32 * l + v * L)));
            }
        }
        return s;
    }
}
