package io.hangar.core.sync;

import io.hangar.core.vfs.VfsVolume;
import io.hangar.fs.FsException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Warms files one by one as a sync applies them, on {@link #THREADS} threads of its own, so the warm-up of
 * a tree overlaps its copy; at most {@link #QUEUED} files wait (the sync waits when more would).
 */
final class FileWarmer implements AutoCloseable {
    static final int THREADS = 2;
    static final int QUEUED = 64;
    private final VfsVolume volume;
    private final ExecutorService pool;
    private final Semaphore slots = new Semaphore(QUEUED);
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicReference<FsException> failure = new AtomicReference<>();

    FileWarmer(VfsVolume volume) {
        this.volume = volume;
        this.pool = Executors.newFixedThreadPool(THREADS, r -> {
            Thread t = new Thread(r, "hangar-sync-warm");
            t.setDaemon(true);
            return t;
        });
    }

    void file(long inode) {
        if (failure.get() != null) {
            return;
        }
        slots.acquireUninterruptibly();
        pool.execute(() -> {
            try {
                bytes.addAndGet(volume.warm(inode));
            } catch (FsException e) {
                failure.compareAndSet(null, e);
            } finally {
                slots.release();
            }
        });
    }

    /** Waits for the queued warm-ups; the bytes fetched, or the first failure. */
    long finish() throws FsException {
        slots.acquireUninterruptibly(QUEUED);
        slots.release(QUEUED);
        if (failure.get() != null) {
            throw failure.get();
        }
        return bytes.get();
    }

    @Override
    public void close() throws FsException {
        pool.shutdownNow();
        volume.close();
    }
}
