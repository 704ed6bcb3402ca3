package io.hangar.core.vfs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** What the block pool holds in native memory: the buffers in use and those it keeps, never past its limit. */
class BlockPoolTest {
    private static final int MIB = 1 << 20;

    @Test
    void aFreedBufferIsKeptAndHandedOutAgain() {
        BlockPool pool = new BlockPool(4 * MIB, 8L * MIB);
        BlockBuffer a = pool.allocate(4 * MIB);
        a.release();
        assertEquals(4L * MIB, pool.heldBytes());
        BlockBuffer b = pool.allocate(4 * MIB);
        assertEquals(4L * MIB, pool.heldBytes(), "the kept buffer was reused, nothing new allocated");
        b.release();
    }

    @Test
    void keptBuffersOfAnotherSizeMakeRoomInsteadOfPilingUp() {
        // 4 MiB blocks read, then 2 MiB ones: the kept 4 MiB buffers must not stay beside new 2 MiB ones.
        BlockPool pool = new BlockPool(4 * MIB, 8L * MIB);
        BlockBuffer a = pool.allocate(4 * MIB);
        BlockBuffer b = pool.allocate(4 * MIB);
        a.release();
        b.release();
        assertEquals(8L * MIB, pool.heldBytes());
        BlockBuffer[] small = new BlockBuffer[4];
        for (int i = 0; i < small.length; i++) {
            small[i] = pool.allocate(2 * MIB);
            assertEquals(true, pool.heldBytes() <= 8L * MIB, "held " + pool.heldBytes() + " after " + (i + 1));
        }
        assertEquals(8L * MIB, pool.heldBytes(), "four 2 MiB buffers in use, the 4 MiB ones let go");
        for (BlockBuffer s : small) {
            s.release();
        }
        assertEquals(8L * MIB, pool.heldBytes(), "kept up to the limit");
    }

    @Test
    void buffersInUseMayExceedTheKeepLimitButAreNotKeptBeyondIt() {
        BlockPool pool = new BlockPool(4 * MIB, 4L * MIB);
        BlockBuffer a = pool.allocate(4 * MIB);
        BlockBuffer b = pool.allocate(4 * MIB);
        assertEquals(8L * MIB, pool.heldBytes(), "users' own limits bound what is in use, not the pool");
        a.release();
        b.release();
        assertEquals(4L * MIB, pool.heldBytes(), "one kept, one let go");
    }
}
