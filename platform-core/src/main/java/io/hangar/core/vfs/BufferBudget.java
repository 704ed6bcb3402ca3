package io.hangar.core.vfs;

import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import java.util.concurrent.Semaphore;

/**
 * The memory write buffers may hold, in KiB so that budgets of several GiB fit a semaphore. Writers wait
 * here when uploads fall behind: back-pressure instead of unbounded heap.
 */
final class BufferBudget {
    private final Semaphore kib;

    BufferBudget(long bytes) {
        this.kib = new Semaphore((int) Math.min(Integer.MAX_VALUE, bytes >> 10), true);
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

    private static int units(int bytes) {
        return (bytes + 1023) >> 10;
    }
}
