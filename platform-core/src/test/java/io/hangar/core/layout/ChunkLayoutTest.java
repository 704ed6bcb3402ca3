package io.hangar.core.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ChunkLayoutTest {
    private final ChunkLayout layout = new ChunkLayout("vol", 4 << 20, 64 << 20);

    @Test
    void chunkIndexAndOffset() {
        assertEquals(0, layout.chunkIndex(0));
        assertEquals(0, layout.chunkIndex((64L << 20) - 1));
        assertEquals(1, layout.chunkIndex(64L << 20));
        assertEquals(16, layout.chunkIndex(1L << 30));
        assertEquals(5, layout.offsetInChunk((64L << 20) * 3 + 5));
        assertEquals(128L << 20, layout.chunkStart(2));
    }

    @Test
    void blocksOfATenMebibyteSlice() {
        int size = 10 << 20;
        assertEquals(3, layout.blockCount(size));
        assertEquals(4 << 20, layout.blockLength(size, 0));
        assertEquals(4 << 20, layout.blockLength(size, 1));
        assertEquals(2 << 20, layout.blockLength(size, 2));
        assertEquals("vol/chunks/0/0/1_0_4194304", layout.blockKey(1, 0, 4 << 20));
        assertEquals("vol/chunks/0/0/1_2_2097152", layout.blockKey(1, 2, 2 << 20));
    }

    @Test
    void keysSpreadByMillionsAndThousands() {
        assertEquals("vol/chunks/1/1234/1234567_3_100", layout.blockKey(1_234_567, 3, 100));
        assertEquals("vol/chunks/0/999/999999_0_1", layout.blockKey(999_999, 0, 1));
    }

    @Test
    void sliceOfExactlyOneBlockAndOfOneByte() {
        assertEquals(1, layout.blockCount(4 << 20));
        assertEquals(1, layout.blockCount(1));
        assertEquals(1, layout.blockLength(1, 0));
        assertEquals(16, layout.blockCount(64 << 20));
    }

    @Test
    void chunkSizeMustBeAMultipleOfBlockSize() {
        assertThrows(IllegalArgumentException.class, () -> new ChunkLayout("v", 3 << 20, 64 << 20));
    }

    @Test
    void offsetsBeyondTheLargestFileAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> layout.chunkIndex(Long.MAX_VALUE));
    }
}
