package io.hangar.core.vfs;

import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;

/**
 * Native (direct) memory for block buffers. Blocks are the unit of every store transfer, so their memory is
 * kept and handed out again instead of being left to the garbage collector: a store reads straight into it
 * and writes straight from it (no temporary copy, no 4 MiB heap arrays), the kernel's FUSE buffer is filled
 * from it with one copy. Buffers are sized in powers of two from {@link #MIN_CAPACITY} to the block size;
 * whole blocks keep at most {@code keepFreeBytes} of free memory, each smaller size a quarter of it; the rest
 * is dropped (freed by the garbage collector).
 *
 * <p>The pool does not bound the memory in use: its users do (write buffers and read-ahead by
 * {@code bufferSize}, the cache by {@code cacheSize}, demand reads by the read threads); this bounds only what
 * it keeps while nobody uses it.
 */
final class BlockPool {
    static final int MIN_CAPACITY = 64 << 10;

    private final int blockSize;
    private final ArrayBlockingQueue<ByteBuffer>[] free;

    @SuppressWarnings("unchecked")
    BlockPool(int blockSize, long keepFreeBytes) {
        this.blockSize = blockSize;
        int classes = Math.max(1, Integer.numberOfTrailingZeros(Integer.highestOneBit(blockSize))
                - Integer.numberOfTrailingZeros(MIN_CAPACITY) + 1);
        free = new ArrayBlockingQueue[classes];
        for (int i = 0; i < classes; i++) {
            // Whole blocks are what streams move; smaller buffers (small files) keep a quarter as much.
            long bytes = capacityOf(i) == blockSize ? keepFreeBytes : keepFreeBytes / 4;
            int keep = (int) Math.max(1, Math.min(1024, bytes / capacityOf(i)));
            free[i] = new ArrayBlockingQueue<>(keep);
        }
    }

    private int capacityOf(int sizeClass) {
        return Math.min(blockSize, MIN_CAPACITY << sizeClass);
    }

    private int sizeClass(int capacity) {
        if (capacity <= MIN_CAPACITY) {
            return 0;
        }
        int c = 32 - Integer.numberOfLeadingZeros(capacity - 1) - Integer.numberOfTrailingZeros(MIN_CAPACITY);
        return Math.min(c, free.length - 1);
    }

    /** A buffer of at least {@code bytes} (at most the block size), holding one reference. */
    BlockBuffer allocate(int bytes) {
        if (bytes > blockSize) {
            throw new IllegalArgumentException(bytes + " bytes is more than a block (" + blockSize + ")");
        }
        int c = sizeClass(bytes);
        ByteBuffer m = free[c].poll();
        if (m == null) {
            m = ByteBuffer.allocateDirect(capacityOf(c));
        }
        return new BlockBuffer(m, this);
    }

    /** The capacity {@link #allocate} gives for {@code bytes}: what a buffer really costs. */
    int capacityFor(int bytes) {
        return capacityOf(sizeClass(bytes));
    }

    void recycle(ByteBuffer memory) {
        int c = sizeClass(memory.capacity());
        if (memory.capacity() == capacityOf(c)) {
            free[c].offer(memory.clear());
        }
    }
}
