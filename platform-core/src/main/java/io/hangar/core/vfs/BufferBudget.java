package io.hangar.core.vfs;

import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The memory write buffers may hold, in KiB so that budgets of several GiB fit a semaphore. Writers wait
 * here when uploads fall behind: back-pressure instead of unbounded heap.
 */
final class BufferBudget {
    private final Semaphore kib;
    private final long totalBytes;

    BufferBudget(long bytes) {
        this.totalBytes = bytes;
        this.kib = new Semaphore((int) Math.min(Integer.MAX_VALUE, bytes >> 10), true);
    }

    /** Takes {@code bytes} (rounded up to KiB), waiting at most {@code waitMs}; false on time-out. */
    boolean tryAcquire(int bytes, long waitMs) throws FsException {
        try {
            return kib.tryAcquire(units(bytes), waitMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(Errno.EIO, "interrupted while waiting for write buffer");
        }
    }

    void acquire(int bytes) throws FsException {
        try {
            kib.acquire(units(bytes));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(Errno.EIO, "interrupted while waiting for write buffer");
        }
    }

    void release(int bytes) {
        kib.release(units(bytes));
    }

    long usedBytes() {
        return totalBytes - ((long) kib.availablePermits() << 10);
    }

    private static int units(int bytes) {
        return (bytes + 1023) >> 10;
    }
}
