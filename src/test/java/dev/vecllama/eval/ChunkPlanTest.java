package dev.vecllama.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** llama-perplexity's chunking rules, and llama.cpp's error for a text that is too short. */
class ChunkPlanTest {
    private static final int[] TOKENS = IntStream.range(100, 100 + 37).toArray();

    @Test
    void cutsWholeChunksAndScoresTheSecondHalf() {
        ChunkPlan p = ChunkPlan.of(TOKENS, 8, -1, 1);
        assertEquals(4, p.chunks(), "37 tokens make 4 chunks of 8; the tail is dropped");
        assertEquals(4, p.first());
        assertEquals(3, p.scoredPerChunk(), "positions 4, 5, 6: position 7 has no next token in the chunk");
        assertEquals(12, p.scoredTotal());
        assertArrayEquals(new int[] {1, 117, 118, 119, 120, 121, 122, 123}, p.input(2), "BOS replaces the chunk's first token");
        assertEquals(123, p.target(2, 6), "the target is the original text's next token");
        assertEquals(2, ChunkPlan.of(TOKENS, 8, 2, 1).chunks());
        assertArrayEquals(new int[] {116, 117, 118, 119, 120, 121, 122, 123}, ChunkPlan.of(TOKENS, 8, -1, -1).input(2));
    }

    @Test
    void needsTwoChunksOfText() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ChunkPlan.of(TOKENS, 20, -1, 1));
        assertEquals("the text has 37 tokens; perplexity with -c 20 needs at least 40", e.getMessage());
    }

    @Test
    void standardErrorIsLlamaCpps() {
        NllStats s = new NllStats();
        for (double v : new double[] {1, 2, 3}) s.add(v);
        assertEquals(Math.exp(2), s.ppl(), 1e-12);
        // variance of the sample (population form) 2/3, divided by n-1 = 2, square root, times PPL
        assertEquals(Math.sqrt(1.0 / 3) * Math.exp(2), s.pplStderr(), 1e-12);
    }
}
