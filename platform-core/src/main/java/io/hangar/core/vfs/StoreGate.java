package io.hangar.core.vfs;

import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.store.StoreException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The volume's door to its chunk store, which may come and go at run time (a store bundle stopped or
 * updated). Calls wait for a store while it is away and retry transient failures, both up to
 * {@code waitMs}, so that buffered data is uploaded when the store returns instead of being lost.
 */
public final class StoreGate {
    /** One store call. */
    @FunctionalInterface
    public interface StoreCall<T> {
        T apply(ChunkStore store) throws StoreException;
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition attached = lock.newCondition();
    private final long waitMs;
    private ChunkStore store;
    private String absence = "chunk store not attached yet";
    private volatile boolean closed;
    private volatile VfsMetrics metrics;

    public StoreGate(ChunkStore initial, long waitMs) {
        this.store = initial;
        this.waitMs = waitMs;
    }

    public void attach(ChunkStore s) {
        lock.lock();
        try {
            store = metered(s);
            attached.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Takes the store away (its provider is going); callers wait until {@link #attach} or time-out. */
    public ChunkStore detach(String why) {
        lock.lock();
        try {
            ChunkStore s = store;
            store = null;
            absence = why;
            return s instanceof MeteredChunkStore m ? m.unwrap() : s;
        } finally {
            lock.unlock();
        }
    }

    /** Counts and times every request to this store and the next ones attached (the volume's meters). */
    void meter(VfsMetrics m) {
        lock.lock();
        try {
            metrics = m;
            if (store instanceof MeteredChunkStore old) {
                store = old.unwrap();
            }
            store = metered(store);
        } finally {
            lock.unlock();
        }
    }

    private ChunkStore metered(ChunkStore s) {
        return s == null || metrics == null || s instanceof MeteredChunkStore ? s
                : new MeteredChunkStore(s, metrics.store);
    }

    public void close() {
        lock.lock();
        try {
            closed = true;
            attached.signalAll();
        } finally {
            lock.unlock();
        }
    }

    public boolean available() {
        return store != null;
    }

    public String state() {
        lock.lock();
        try {
            return store != null ? "ok" : "unavailable: " + absence;
        } finally {
            lock.unlock();
        }
    }

    /** The current store, if attached; for callers that must not wait. */
    public ChunkStore current() {
        return store;
    }

    public <T> T call(String what, StoreCall<T> op) throws FsException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
        long backoffMs = 10;
        StoreException last = null;
        while (true) {
            ChunkStore s = await(deadline, what, last);
            try {
                return op.apply(s);
            } catch (StoreException e) {
                switch (e.kind()) {
                    case TRANSIENT -> {
                        last = e;
                        VfsMetrics m = metrics;
                        if (m != null) {
                            m.storeRetries.increment();
                        }
                    }
                    case NOT_FOUND -> throw new FsException(Errno.EIO, what + ": object missing: " + e.getMessage(), e);
                    case PERMISSION -> throw new FsException(Errno.EACCES, what + ": " + e.getMessage(), e);
                    case FULL -> throw new FsException(Errno.ENOSPC, what + ": " + e.getMessage(), e);
                    default -> throw new FsException(Errno.EIO, what + ": " + e.getMessage(), e);
                }
            }
            if (System.nanoTime() > deadline) {
                throw new FsException(Errno.EIO, what + ": chunk store failing: " + last.getMessage(), last);
            }
            sleep(backoffMs);
            backoffMs = Math.min(backoffMs * 2, 1000);
        }
    }

    private ChunkStore await(long deadline, String what, StoreException last) throws FsException {
        lock.lock();
        try {
            while (store == null && !closed) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new FsException(Errno.EIO, what + ": chunk store " + absence
                            + (last != null ? " (" + last.getMessage() + ")" : ""));
                }
                attached.awaitNanos(left);
            }
            if (closed) {
                throw new FsException(Errno.EIO, what + ": volume is closed");
            }
            return store;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(Errno.EIO, what + ": interrupted");
        } finally {
            lock.unlock();
        }
    }

    private static void sleep(long ms) throws FsException {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(Errno.EIO, "interrupted");
        }
    }
}
