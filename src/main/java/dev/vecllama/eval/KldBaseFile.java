package dev.vecllama.eval;

import dev.vecllama.io.AtomicFile;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import java.nio.file.StandardOpenOption;

/**
 * The base model's log-probabilities, written by {@code perplexity --kl-divergence-base FILE} and read
 * back by {@code perplexity --kl-divergence FILE}. Little-endian:
 * <pre>
 *   8 bytes  magic "VLKLDIV\0"
 *   u32      version (1)
 *   u32      vocabulary size V
 *   u32      context (chunk) size C
 *   u32      number of chunks N
 *   i32      BOS token put first in each chunk, or -1
 *   i32[N·C] the evaluated text's tokens
 *   then for each chunk, for each scored position (C/2 .. C-2), one record of 12 + 2V bytes:
 *     f32 scale, f32 minLogProb, f32 log p(next token), u16 q[V]   with log p(i) ≈ minLogProb + scale·q[i]
 * </pre>
 * The records quantize log-probabilities the way llama.cpp's {@code --kl-divergence-base} does: 16
 * bits spread over the 16 nats below the top logit; anything lower is stored as that floor (such
 * tokens carry no weight in the divergence). That halves the file compared with f32 at no visible
 * cost: the quantization step is 16/65535 ≈ 2.4e-4 nats. The actual next token's log-probability is
 * also kept exactly, because that one may lie below the floor, and the base perplexity needs it.
 */
public final class KldBaseFile {
    static final byte[] MAGIC = "VLKLDIV\0".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int HEADER_BYTES = 8 + 5 * 4;
    /** Log-probabilities more than this far below the top one are clamped (as in llama.cpp). */
    static final float RANGE = 16f;

    private KldBaseFile() {}

    static long recordBytes(int vocab) {
        return 12 + 2L * vocab;
    }

    /** Streams the header and records to a temporary file that {@link #commit} renames into place. */
    public static final class Writer implements AutoCloseable {
        private final Path out;
        private final Path tmp;
        private final OutputStream os;
        private final ByteBuffer record;
        private boolean committed;

        public Writer(Path out, ChunkPlan plan, int vocab) {
            this.out = out;
            try {
                tmp = AtomicFile.temporaryBeside(out);
                os = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20);
                ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES + 4 * plan.chunks() * plan.nCtx()).order(ByteOrder.LITTLE_ENDIAN);
                h.put(MAGIC).putInt(VERSION).putInt(vocab).putInt(plan.nCtx()).putInt(plan.chunks()).putInt(plan.bos());
                for (int i = 0; i < plan.chunks() * plan.nCtx(); i++) h.putInt(plan.tokens()[i]);
                os.write(h.array());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
            }
            record = ByteBuffer.allocate((int) recordBytes(vocab)).order(ByteOrder.LITTLE_ENDIAN);
        }

        /** Appends one scored position's log-probabilities; {@code target} is the token that followed. */
        public void add(float[] logits, int target) {
            float max = logits[0], min = logits[0];
            for (float l : logits) {
                max = Math.max(max, l);
                min = Math.min(min, l);
            }
            min = Math.max(min, max - RANGE);
            float logZ = (float) LogSoftmax.logSumExpShifted(logits, max);
            float scale = (max - min) / 65535f;
            record.clear();
            record.putFloat(scale).putFloat(min - max - logZ).putFloat(logits[target] - max - logZ);
            float inv = scale != 0 ? 1 / scale : 0;
            for (float l : logits) record.putShort((short) (l > min ? (int) Math.rint(inv * (l - min)) : 0));
            try {
                os.write(record.array());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
            }
        }

        public void commit() {
            try {
                os.close();
                AtomicFile.commit(tmp, out);
                committed = true;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
            }
        }

        /** Without {@link #commit} (a failure or an interruption) nothing is left behind. */
        @Override
        public void close() {
            if (committed) return;
            try {
                os.close();
            } catch (IOException ignored) {
                // the file is being discarded
            }
            AtomicFile.discard(tmp);
        }
    }

    /** A base file mapped for reading; the header is validated on open. */
    public static final class Reader implements AutoCloseable {
        private final Arena arena = Arena.ofShared();
        private final MemorySegment seg;
        private final int vocab;
        private final long recordsStart;
        public final ChunkPlan plan;

        public Reader(Path in) {
            try (FileChannel ch = FileChannel.open(in, StandardOpenOption.READ)) {
                seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            } catch (NoSuchFileException e) {
                arena.close();
                throw new IllegalArgumentException("no such KL-divergence base file: " + in);
            } catch (IOException e) {
                arena.close();
                throw new UncheckedIOException("cannot read " + in + ": " + e.getMessage(), e);
            }
            try {
                String bad = "not a vecllama KL-divergence base file (write one with --kl-divergence-base): " + in;
                if (seg.byteSize() < HEADER_BYTES) throw new IllegalArgumentException(bad);
                byte[] magic = seg.asSlice(0, 8).toArray(ValueLayout.JAVA_BYTE);
                if (!java.util.Arrays.equals(magic, MAGIC)) throw new IllegalArgumentException(bad);
                int version = i32(8);
                if (version != VERSION) {
                    throw new IllegalArgumentException(in + ": KL-divergence base file version " + version + ", this vecllama reads version " + VERSION);
                }
                vocab = i32(12);
                int nCtx = i32(16), chunks = i32(20), bos = i32(24);
                if (vocab < 1 || nCtx < 4 || chunks < 1) throw new IllegalArgumentException(in + ": corrupt KL-divergence base header");
                int[] tokens = new int[Math.multiplyExact(chunks, nCtx)];
                MemorySegment.copy(seg, ValueLayout.JAVA_INT_UNALIGNED, HEADER_BYTES, tokens, 0, tokens.length);
                recordsStart = HEADER_BYTES + 4L * tokens.length;
                plan = new ChunkPlan(tokens, nCtx, chunks, bos);
                long expected = recordsStart + plan.scoredTotal() * recordBytes(vocab);
                if (seg.byteSize() != expected) {
                    throw new IllegalArgumentException(in + ": KL-divergence base file is " + seg.byteSize() + " bytes, its header promises " + expected + " (truncated?)");
                }
            } catch (RuntimeException e) {
                arena.close();
                throw e;
            }
        }

        private int i32(long off) {
            return seg.get(ValueLayout.JAVA_INT_UNALIGNED, off);
        }

        public int vocab() {
            return vocab;
        }

        private long record(int chunk, int pos) {
            return recordsStart + ((long) chunk * plan.scoredPerChunk() + (pos - plan.first())) * recordBytes(vocab);
        }

        /** Decodes the log-probabilities of scored position {@code pos} of chunk {@code chunk} into {@code dst}. */
        public void logProbs(int chunk, int pos, float[] dst) {
            long at = record(chunk, pos);
            float scale = seg.get(ValueLayout.JAVA_FLOAT_UNALIGNED, at);
            float min = seg.get(ValueLayout.JAVA_FLOAT_UNALIGNED, at + 4);
            for (int i = 0; i < vocab; i++) {
                int q = Short.toUnsignedInt(seg.get(ValueLayout.JAVA_SHORT_UNALIGNED, at + 12 + 2L * i));
                dst[i] = scale * q + min;
            }
        }

        /** The exact log-probability the base model gave the token that followed position {@code pos}. */
        public float targetLogProb(int chunk, int pos) {
            return seg.get(ValueLayout.JAVA_FLOAT_UNALIGNED, record(chunk, pos) + 8);
        }

        @Override
        public void close() {
            arena.close();
        }
    }
}
