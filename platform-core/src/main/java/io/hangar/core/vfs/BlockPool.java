package io.hangar.core.vfs;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Native (direct) memory for block buffers. Blocks are the unit of every store transfer, so their memory is
 * kept and handed out again instead of being left to the garbage collector: a store reads straight into it
 * and writes straight from it (no temporary copy, no 4 MiB heap arrays), the kernel's FUSE buffer is filled
 * from it with one copy. Buffers are sized in powers of two from {@link #MIN_CAPACITY} to the block size.
 *
 * <p>Freed memory is kept, up to {@code keepFreeBytes} in all, rather than dropped: a dropped direct buffer
 * holds its native memory until a garbage collection finds it, and with block data off the heap collections
 * are rare, so dropped buffers would pile up to the JVM's direct-memory limit. Kept, the memory this pool has
 * ever allocated stays at the peak its users held at once, which their own limits bound (write buffers and
 * read-ahead by {@code bufferSize}, the cache by {@code cacheSize}, demand reads by the read threads).
 */
final class BlockPool {
    static final int MIN_CAPACITY = 64 << 10;

    private final int blockSize;
    private final long keepFreeBytes;
    private final ConcurrentLinkedQueue<ByteBuffer>[] free;
    private final AtomicLong freeBytes = new AtomicLong();

    @SuppressWarnings("unchecked")
    BlockPool(int blockSize, long keepFreeBytes) {
        this.blockSize = blockSize;
        this.keepFreeBytes = keepFreeBytes;
        int classes = Math.max(1, Integer.numberOfTrailingZeros(Integer.highestOneBit(blockSize))
                - Integer.numberOfTrailingZeros(MIN_CAPACITY) + 1);
        free = new ConcurrentLinkedQueue[classes];
        for (int i = 0; i < classes; i++) {
            free[i] = new ConcurrentLinkedQueue<>();
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
        if (m != null) {
            freeBytes.addAndGet(-m.capacity());
        } else {
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
        if (memory.capacity() == capacityOf(c) && freeBytes.addAndGet(memory.capacity()) <= keepFreeBytes) {
            free[c].offer(memory.clear());
            return;
        }
        if (memory.capacity() == capacityOf(c)) {
            freeBytes.addAndGet(-memory.capacity()); // over the limit: left to the garbage collector
        }
    }
}
