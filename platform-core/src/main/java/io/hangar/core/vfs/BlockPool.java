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
 *
 * <p>Kept memory of one size must not sit idle while another size is allocated anew beside it, or what the
 * pool holds grows past the peak its users need (files of 2 MiB read after files of 4 MiB filled the JVM's
 * direct memory with kept 4 MiB buffers, and their reads failed). So an allocation that would take what the
 * pool holds past {@code keepFreeBytes} first lets kept buffers of other sizes go (the JDK frees them in a
 * collection when its limit is near); should the limit be reached anyway, every kept buffer is let go and the
 * allocation is tried once more.
 */
final class BlockPool {
    static final int MIN_CAPACITY = 64 << 10;
    /** The alignment of every buffer's memory: what the disk cache's direct I/O needs. */
    private static final int ALIGN = io.hangar.core.cache.DiskBlockCache.DIRECT_IO_ALIGNMENT;

    private final int blockSize;
    private final long keepFreeBytes;
    private final ConcurrentLinkedQueue<ByteBuffer>[] free;
    private final AtomicLong freeBytes = new AtomicLong();
    // Native memory of every buffer this pool allocated and has not let go: in use and kept.
    private final AtomicLong heldBytes = new AtomicLong();

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
            return new BlockBuffer(m, this);
        }
        int capacity = capacityOf(c);
        letKeptGo(keepFreeBytes - capacity);
        try {
            m = aligned(capacity);
        } catch (OutOfMemoryError limit) {
            // The JVM's limit: let every kept buffer go and try once more (the JDK collects and waits for their
            // memory before it gives up).
            letKeptGo(Long.MIN_VALUE);
            m = aligned(capacity);
        }
        heldBytes.addAndGet(capacity);
        return new BlockBuffer(m, this);
    }

    /**
     * Page-aligned native memory of exactly {@code capacity} bytes, so a block can be read into it and written
     * from it with O_DIRECT (the JDK aligns direct buffers only to 8 bytes); it costs {@link #ALIGN} bytes more.
     */
    private static ByteBuffer aligned(int capacity) {
        return ByteBuffer.allocateDirect(capacity + ALIGN).alignedSlice(ALIGN).limit(capacity).slice();
    }

    /** Lets kept buffers go, smallest first, until the pool holds at most {@code target} bytes or keeps none. */
    private void letKeptGo(long target) {
        for (int k = 0; k < free.length && heldBytes.get() > target; k++) {
            ByteBuffer b;
            while (heldBytes.get() > target && (b = free[k].poll()) != null) {
                freeBytes.addAndGet(-b.capacity());
                heldBytes.addAndGet(-b.capacity());
            }
        }
    }

    /** Native memory this pool holds: buffers in use and buffers kept for reuse. */
    long heldBytes() {
        return heldBytes.get();
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
            heldBytes.addAndGet(-memory.capacity());
        }
    }
}
