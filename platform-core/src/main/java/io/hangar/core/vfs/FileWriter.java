package io.hangar.core.vfs;

import io.hangar.core.layout.ChunkLayout;
import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetadataEngine;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The buffered writes of one inode, shared by all handles of this volume that write it. Contiguous writes
 * grow one slice; any other write seals it and starts another. Sealed slices are committed to the metadata
 * engine strictly in write order (newest must win), after all their blocks are stored; the chain of commits
 * runs in the background and {@link #flush} waits for it.
 */
final class FileWriter {
    private final long inode;
    private final MetadataEngine meta;
    private final ChunkLayout layout;
    private final SliceIds ids;
    private final SliceBuilder.Uploader uploader;
    private final BufferBudget budget;
    private final Compactor compactor;
    private final BlockReader reader;
    private final int compactThreshold;
    private final Map<Integer, Integer> commitsPerChunk = new HashMap<>();
    private SliceBuilder current;
    private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);
    private long pendingEnd = -1;
    private final AtomicInteger users = new AtomicInteger();

    FileWriter(long inode, MetadataEngine meta, ChunkLayout layout, SliceIds ids, SliceBuilder.Uploader uploader,
            BufferBudget budget, Compactor compactor, BlockReader reader, int compactThreshold) {
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

    /** Called under the volume's map lock for this inode, so it must not wait on this writer's monitor. */
    void retain() {
        users.incrementAndGet();
    }

    /** Returns true when no handle uses this writer any more. */
    boolean releaseUser() {
        return users.decrementAndGet() <= 0;
    }

    /** End of the highest byte written but maybe not yet committed, or -1. */
    synchronized long pendingEnd() {
        return pendingEnd;
    }

    synchronized boolean dirty() {
        return current != null || !tail.isDone();
    }

    synchronized void write(long position, byte[] data, int off, int len) throws FsException {
        failIfBroken();
        long end = position + len;
        while (len > 0) {
            int chunk = layout.chunkIndex(position);
            int pos = layout.offsetInChunk(position);
            if (current != null && (current.chunk != chunk || current.end() != pos)) {
                seal();
            }
            if (current == null) {
                current = new SliceBuilder(chunk, pos, ids.next(), layout, uploader, budget);
            }
            int n = Math.min(len, current.room());
            current.append(data, off, n);
            if (current.room() == 0) {
                seal();
            }
            position += n;
            off += n;
            len -= n;
        }
        pendingEnd = Math.max(pendingEnd, end);
    }

    /** Seals the open slice and queues its commit behind the earlier ones. */
    private void seal() {
        SliceBuilder s = current;
        current = null;
        if (s == null || s.len() == 0) {
            return;
        }
        CompletableFuture<Void> uploaded = s.seal();
        tail = tail.thenCompose(v -> uploaded).thenRun(() -> commit(s));
    }

    private void commit(SliceBuilder s) {
        try {
            meta.writeSlice(inode, s.chunk, s.record(), System.currentTimeMillis() * 1_000_000L);
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
        synchronized (this) {
            failIfBroken();
            seal();
            wait = tail;
        }
        try {
            wait.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(Errno.EIO, "interrupted while flushing inode " + inode);
        } catch (ExecutionException e) {
            throw BlockReader.unwrap(e.getCause(), "flush of inode " + inode);
        }
        synchronized (this) {
            if (tail == wait && current == null) {
                pendingEnd = -1;
            }
        }
    }

    private void failIfBroken() throws FsException {
        if (tail.isCompletedExceptionally()) {
            try {
                tail.join();
            } catch (RuntimeException e) {
                FsException cause = BlockReader.unwrap(e, "earlier write of inode " + inode);
                throw new FsException(Errno.EIO, "earlier write of inode " + inode + " failed: "
                        + cause.getMessage(), cause);
            }
        }
    }
}
