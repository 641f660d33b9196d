package dev.vecllama.quant;

import dev.vecllama.eval.ProgressBar;
import dev.vecllama.kernel.WeightMatrix;
import dev.vecllama.model.Weights;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * Quantization to NF4 on load, like bitsandbytes' load_in_4bit: every layer's attention and FFN
 * matrix is dequantized row by row and re-encoded into memory from an arena the caller owns. The
 * embedding and output projection keep their type: they are looked up or used once per token, and
 * they are where 4-bit error hurts most.
 */
public final class NF4Conversion {
    private NF4Conversion() {}

    /**
     * Sources precise enough to be worth re-encoding: floats and 8-bit. A 4- or 6-bit source would be
     * quantized twice, its error on top of NF4's.
     */
    private static final Set<WeightFormat> SOURCES = Set.of(F32.INSTANCE, F16.INSTANCE, BF16.INSTANCE, Q8_0.INSTANCE);

    private static final double MIB = 1024.0 * 1024.0;

    /** {@code w} with its linear weights in {@code format}, a progress bar and then the memory they take on {@code log}. */
    public static Weights convert(Weights w, NF4 format, Arena arena, PrintStream log) {
        List<WeightMatrix> all = Arrays.stream(w.layers).flatMap(l -> Arrays.stream(l.linear())).toList();
        for (WeightMatrix m : all) {
            if (!SOURCES.contains(m.format)) {
                throw new UnsupportedFormatException("--nf4: tensor " + m.name + " is " + m.format.type()
                        + "; NF4 conversion needs F32, F16, BF16 or Q8_0 weights");
            }
        }
        long before = all.stream().mapToLong(WeightMatrix::byteSize).sum();
        ProgressBar bar = new ProgressBar(log, all.size());
        int[] done = {0};
        long[] after = {0};
        Weights converted = w.mapLinear(m -> {
            WeightMatrix q = convert(m, format, arena);
            after[0] += q.byteSize();
            bar.update(++done[0], String.format("%-28s", m.name)); // padded: a shorter name must cover a longer one
            return q;
        });
        log.printf("%s: %.1f MiB of attention/FFN weights, was %.1f MiB (%.3f bits per weight)%n", format, after[0] / MIB, before / MIB,
                8.0 * after[0] / all.stream().mapToLong(m -> (long) m.rows * m.cols).sum());
        return converted;
    }

    /** One matrix in {@code format}, its rows quantized in parallel into a fresh segment of {@code arena}. */
    public static WeightMatrix convert(WeightMatrix m, NF4 format, Arena arena) {
        long rowBytes = format.rowBytes(m.cols);
        MemorySegment data = arena.allocate(rowBytes * m.rows, 64);
        IntStream.range(0, m.rows).parallel().forEach(r -> {
            float[] row = new float[m.cols];
            m.dequantizeRow(r, row, 0);
            format.quantize(row, 0, m.cols, data, r * rowBytes);
        });
        return new WeightMatrix(m.name, m.rows, m.cols, format, data);
    }
}
