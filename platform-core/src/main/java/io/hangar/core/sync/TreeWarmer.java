package io.hangar.core.sync;

import io.hangar.fs.Attr;
import io.hangar.fs.DirEntry;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.vfs.Volume;
import java.util.List;

/** Warms every regular file under a path of a volume, one directory page in memory at a time. */
final class TreeWarmer {
    private final Volume volume;
    private long bytes;

    TreeWarmer(Volume volume) {
        this.volume = volume;
    }

    long warm(String path) throws FsException {
        Attr a = volume.resolve(path).attr();
        walk(a);
        return bytes;
    }

    private void walk(Attr a) throws FsException {
        if (a.type() == FileType.FILE) {
            bytes += volume.warm(a.inode());
            return;
        }
        if (a.type() != FileType.DIRECTORY) {
            return;
        }
        String after = null;
        for (List<DirEntry> page; !(page = volume.readdir(a.inode(), after, 1000, true)).isEmpty();
                after = page.get(page.size() - 1).name()) {
            for (DirEntry e : page) {
                walk(e.attr() != null ? e.attr() : volume.getattr(e.inode()));
            }
        }
    }

    /**
     * Warms files one by one as a sync applies them, on {@link #THREADS} threads of its own, so the warm-up of
     * a tree overlaps its copy; at most {@link #QUEUED} files wait (the sync waits when more would).
     */
    static final class Pipelined implements AutoCloseable {
        static final int THREADS = 2;
        static final int QUEUED = 64;
        private final io.hangar.core.vfs.VfsVolume volume;
        private final java.util.concurrent.ExecutorService pool;
        private final java.util.concurrent.Semaphore slots = new java.util.concurrent.Semaphore(QUEUED);
        private final java.util.concurrent.atomic.AtomicLong bytes = new java.util.concurrent.atomic.AtomicLong();
        private final java.util.concurrent.atomic.AtomicReference<FsException> failure =
                new java.util.concurrent.atomic.AtomicReference<>();

        Pipelined(io.hangar.core.vfs.VfsVolume volume) {
            this.volume = volume;
            this.pool = java.util.concurrent.Executors.newFixedThreadPool(THREADS, r -> {
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
}
