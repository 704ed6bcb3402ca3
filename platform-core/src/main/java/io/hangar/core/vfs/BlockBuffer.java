package io.hangar.core.vfs;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bytes of one block (or of a small file's partial block) in native memory, shared by reference count between
 * the writer that filled it, its upload, the block cache and readers copying out of it. The last
 * {@link #release} gives the memory back to its {@link BlockPool}. A released buffer is never revived: the
 * pool hands its memory out again wrapped in a new {@code BlockBuffer}, so a reader that comes too late
 * fails {@link #retain} instead of reading another block's bytes.
 */
final class BlockBuffer {
    private final ByteBuffer memory;
    private final BlockPool pool;
    private final AtomicInteger refs = new AtomicInteger(1);

    BlockBuffer(ByteBuffer memory, BlockPool pool) {
        this.memory = memory;
        this.pool = pool;
    }

    int capacity() {
        return memory.capacity();
    }

    /** Takes one more reference; false if the buffer was released already (its memory may be reused). */
    boolean retain() {
        for (;;) {
            int n = refs.get();
            if (n <= 0) {
                return false;
            }
            if (refs.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    void release() {
        int n = refs.decrementAndGet();
        if (n == 0) {
            pool.recycle(memory);
        } else if (n < 0) {
            throw new IllegalStateException("block buffer released twice");
        }
    }

    /** Copies {@code src}'s remaining bytes to {@code at}; src's position moves past them. */
    void put(int at, ByteBuffer src) {
        int n = src.remaining();
        memory.put(at, src, src.position(), n);
        src.position(src.position() + n);
    }

    /** Copies {@code dst.remaining()} bytes from {@code at} into dst; dst's position moves past them. */
    void get(int at, ByteBuffer dst) {
        int n = dst.remaining();
        dst.put(dst.position(), memory, at, n);
        dst.position(dst.position() + n);
    }

    /** Copies the first {@code length} bytes into {@code other} (a larger buffer of a growing slice). */
    void copyTo(BlockBuffer other, int length) {
        other.memory.put(0, memory, 0, length);
    }

    /** A view of bytes [0, length) for a store to read from or write into; no copy. */
    ByteBuffer view(int length) {
        return memory.duplicate().position(0).limit(length);
    }
}
