package io.hangar.core.vfs;

import io.hangar.core.layout.ChunkLayout;
import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetadataEngine;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The buffered writes of one inode, shared by all handles of this volume that write it. Contiguous writes
 * grow one slice; any other write seals it and starts another. Sealed slices are committed to the metadata
 * engine strictly in write order (newest must win), after all their blocks are stored; the chain of commits
 * runs in the background and {@link #flush} waits for it.
 *
 * <p>When the write-buffer budget runs short, a waiting writer of another file may seal this writer's open
 * slice so that its partial buffer is uploaded ({@link #tryShip}); the next write then starts a new slice.
 * That is why the state is guarded by a lock that others can try without blocking.
 */
final class FileWriter implements BufferBudget.Holder {
    /** Asked before each slice is committed: throws (EPERM) if the file may no longer change (frozen). */
    @FunctionalInterface
    interface CommitGuard {
        void check(long inode) throws FsException;
    }

    private final long inode;
    private final CommitGuard guard;
    private final MetadataEngine meta;
    private final ChunkLayout layout;
    private final SliceIds ids;
    private final SliceBuilder.Uploader uploader;
    private final BufferBudget budget;
    private final Compactor compactor;
    private final BlockReader reader;
    private final int compactThreshold;
    private final BlockPool pool;
    private final Map<Integer, Integer> commitsPerChunk = new HashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    // Written under the lock; volatile so that attribute reads and the budget need not wait for a writer
    // that is waiting for memory.
    private volatile SliceBuilder current;
    private volatile CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);
    private volatile long pendingEnd = -1;
    private final AtomicInteger users = new AtomicInteger();
    /** Slices committed so far: each commit is durable, and with it every change the engine made before. */
    private final AtomicLong commits = new AtomicLong();

    private final VfsMetrics metrics;

    FileWriter(long inode, MetadataEngine meta, ChunkLayout layout, SliceIds ids, SliceBuilder.Uploader uploader,
            BufferBudget budget, Compactor compactor, BlockReader reader, int compactThreshold, BlockPool pool,
            VfsMetrics metrics, CommitGuard guard) {
        this.metrics = metrics;
        this.guard = guard;
        this.pool = pool;
        this.inode = inode;
        this.meta = meta;
        this.layout = layout;
        this.ids = ids;
        this.uploader = uploader;
        this.budget = budget;
        this.compactor = compactor;
        this.reader = reader;
        this.compactThreshold = compactThreshold;
    }

    /** Called under the volume's map lock for this inode, so it must not wait on this writer's lock. */
    void retain() {
        users.incrementAndGet();
    }

    /** Returns true when no handle uses this writer any more. */
    boolean releaseUser() {
        return users.decrementAndGet() <= 0;
    }

    /** End of the highest byte written but maybe not yet committed, or -1. */
    long pendingEnd() {
        return pendingEnd;
    }

    boolean dirty() {
        return current != null || !tail.isDone();
    }

    /** Buffers {@code data}'s remaining bytes for {@code position}; data's position moves past what was taken. */
    void write(long position, ByteBuffer data) throws FsException {
        int len = data.remaining();
        lock.lock();
        try {
            failIfBroken();
            long start = position;
            try {
                while (len > 0) {
                    int chunk = layout.chunkIndex(position);
                    int pos = layout.offsetInChunk(position);
                    SliceBuilder s = current;
                    if (s != null && (s.chunk != chunk || s.end() != pos)) {
                        seal();
                    }
                    if (current == null) {
                        current = new SliceBuilder(chunk, pos, ids.next(), layout, uploader, budget, this, pool);
                        budget.register(this);
                    }
                    int n = Math.min(len, current.room());
                    int done = current.append(data, n);
                    // Short: the budget asked for this slice's partial buffer; the rest goes to a new slice.
                    if (done < n || current.room() == 0) {
                        seal();
                    }
                    position += done;
                    len -= done;
                }
            } finally {
                // What was buffered before a failure (an interrupted wait for memory) is pending too.
                if (position > start) {
                    pendingEnd = Math.max(pendingEnd, position);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int heldBytes() {
        SliceBuilder s = current;
        return s == null ? 0 : s.buffered();
    }

    @Override
    public boolean tryShip() {
        if (!lock.tryLock()) {
            return false;
        }
        try {
            SliceBuilder s = current;
            if (s == null || s.buffered() == 0) {
                return false;
            }
            if (tail.isCompletedExceptionally()) {
                // Broken: its data cannot land, and the next call on it reports that; free the memory now.
                current = null;
                budget.unregister(this);
                s.discard();
                return true;
            }
            seal();
            return true;
        } finally {
            lock.unlock();
        }
    }

    long commits() {
        return commits.get();
    }

    /** Seals the open slice and queues its commit behind the earlier ones. Under the lock. */
    private void seal() {
        SliceBuilder s = current;
        if (s != null && s.len() > 0) {
            CompletableFuture<Void> uploaded = s.seal();
            // The new tail before the open slice goes: dirty() reads both without the lock, and must never see
            // neither an open slice nor a pending commit while this one is on its way (a read would then skip
            // the flush and cut itself at the old committed length).
            tail = tail.thenCompose(v -> uploaded).thenRun(() -> commit(s));
            current = null;
            budget.unregister(this);
            return;
        }
        current = null;
        budget.unregister(this);
        if (s != null) {
            s.discard();
        }
    }

    private void commit(SliceBuilder s) {
        try {
            io.hangar.spi.meta.Slice record = s.record();
            // A handle opened before the file was frozen must not change it: refused here, at the commit, the
            // slice's blocks stay unreferenced in the store until gc removes them.
            guard.check(inode);
            meta.writeSlice(inode, s.chunk, record, System.currentTimeMillis() * 1_000_000L);
            commits.incrementAndGet();
            metrics.slicesCommitted.increment();
            metrics.sliceBytes.record(record.len());
        } catch (FsException e) {
            throw new CompletionException(e);
        }
        reader.invalidate(inode, s.chunk);
        int commits;
        synchronized (commitsPerChunk) {
            commits = commitsPerChunk.merge(s.chunk, 1, Integer::sum);
        }
        if (commits % compactThreshold == 0) {
            compactor.request(inode, s.chunk);
        }
    }

    /**
     * Commits everything written so far. A failed upload or commit is reported here (and to every later
     * call) as EIO: the data of that write is not in the file.
     */
    void flush() throws FsException {
        CompletableFuture<Void> wait;
        lock.lock();
        try {
            failIfBroken();
            seal();
            wait = tail;
        } finally {
            lock.unlock();
        }
        try {
            wait.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(Errno.EIO, "interrupted while flushing inode " + inode);
        } catch (ExecutionException e) {
            throw BlockReader.unwrap(e.getCause(), "flush of inode " + inode);
        }
        lock.lock();
        try {
            if (tail == wait && current == null) {
                pendingEnd = -1;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Under the lock. A broken writer also gives up the buffer of its open slice: that data cannot land. */
    private void failIfBroken() throws FsException {
        if (tail.isCompletedExceptionally()) {
            SliceBuilder s = current;
            if (s != null) {
                current = null;
                budget.unregister(this);
                s.discard();
            }
            try {
                tail.join();
            } catch (RuntimeException e) {
                FsException cause = BlockReader.unwrap(e, "earlier write of inode " + inode);
                if (cause.errno() == Errno.EPERM) {
                    // A refusal (the file was frozen) stays one: it is not an I/O error, and lasts.
                    throw new FsException(Errno.EPERM, "earlier write of inode " + inode + " refused: "
                            + cause.getMessage(), cause);
                }
                throw new FsException(Errno.EIO, "earlier write of inode " + inode + " failed: "
                        + cause.getMessage(), cause);
            }
        }
    }
}
