package io.hangar.core.vfs;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * The read-ahead of one open stream: blocks fetched ahead of a sequential reader, kept here (not in the
 * volume's shared block cache) until the reader has taken their bytes, then dropped. The window starts at
 * {@link #INITIAL_BLOCKS} blocks and grows with the bytes read in sequence, up to the volume's
 * {@code readAhead}; a read that jumps elsewhere starts a new sequence.
 *
 * <p>Why not the shared cache: its admission policy favours blocks read many times (a block of a random reader
 * is read once per request), so blocks fetched once ahead of a reader were dropped before the reader came,
 * and fetched again. Memory comes from the volume's {@link BufferBudget} ({@link ReadAheadBudget}); when none
 * is free, the stream reads without read-ahead rather than making writers wait.
 */
final class ReadAhead {
    static final int INITIAL_BLOCKS = 2;
    /** A read that starts this close to where the last one ended still counts as sequential (FUSE requests
     * of one stream arrive slightly out of order from several threads). */
    static final long SEQUENTIAL_SLACK = 2 << 20;

    /**
     * The fetch of one block ahead. It runs on the read-ahead pool, or, if a reader needs the block before a
     * pool thread has taken it up, in the reader's thread: a read never waits in the read-ahead queue.
     */
    static final class Fetch implements Runnable {
        final CompletableFuture<BlockBuffer> data = new CompletableFuture<>();
        private final AtomicBoolean claimed = new AtomicBoolean();
        private final Supplier<BlockBuffer> load;

        Fetch(Supplier<BlockBuffer> load) {
            this.load = load;
        }

        @Override
        public void run() {
            if (claimed.compareAndSet(false, true)) {
                try {
                    data.complete(load.get());
                } catch (RuntimeException | Error e) {
                    // Every failure completes the future, an Error too (direct memory exhausted): the reader
                    // waiting for this block must get an answer, never wait for ever.
                    data.completeExceptionally(e instanceof CompletionException && e.getCause() != null
                            ? e.getCause() : e);
                }
            }
        }

        /** Given up before it ran (the pool refused it, or the stream dropped it). */
        void cancel() {
            if (claimed.compareAndSet(false, true)) {
                data.cancel(false);
            }
        }
    }

    /**
     * One block fetched ahead: its bytes, how many of them the reader has still to take, and the file range
     * they were fetched for (so a range asked for again does not count its bytes twice).
     */
    static final class Block {
        final String key;
        final int length;
        final Fetch fetch;
        final CompletableFuture<BlockBuffer> data;
        long unread;
        long fileStart;
        long fileEnd;

        Block(String key, int length, Fetch fetch) {
            this.key = key;
            this.length = length;
            this.fetch = fetch;
            this.data = fetch.data;
        }
    }

    private final long maxWindow;
    private final int blockSize;
    private final ReadAheadBudget budget;
    private final Map<String, Block> blocks = new LinkedHashMap<>();
    private long sequenceStart = -1;
    private long lastReadEnd = -1;
    /** Bytes the current sequence's reads asked for: how densely they cover it. */
    private long sequenceBytes;
    private long fetchedTo;
    /** Nothing at or past this is fetched ahead (the end of a ranged read the caller announced). */
    private long limit = Long.MAX_VALUE;
    private boolean closed;

    ReadAhead(long maxWindow, int blockSize, ReadAheadBudget budget) {
        this.maxWindow = maxWindow;
        this.blockSize = blockSize;
        this.budget = budget;
    }

    /**
     * The stream will read [start, end) in order: its first read at start counts as sequential (so it starts
     * the window at once), and the window never reaches past end. Before the first read only.
     */
    synchronized void range(long start, long end) {
        limit = Math.max(start, end);
        if (lastReadEnd < 0) {
            sequenceStart = start;
            lastReadEnd = start;
            fetchedTo = start;
        }
    }

    /**
     * Notes a read of [position, position+len) and returns the file range to fetch ahead as {from, to}, or
     * null (not sequential, or the window is still mostly ahead of the reader).
     */
    synchronized long[] advance(long position, int len, long fileLength) {
        if (closed || maxWindow <= 0) {
            return null;
        }
        // Sequential: near where the stream's reads have reached, or farther (early or late) but inside the
        // window if the sequence's reads, this one included, cover at least a quarter of its span. FUSE's
        // worker threads deliver the kernel's read-ahead requests out of order, now and then several MiB
        // early or late; taking one for a jump restarted the window at its smallest and fetched held blocks
        // again. A reader that skips through the file covers little of it, and stays without read-ahead.
        long distance = Math.abs(position - lastReadEnd);
        long end = position + len;
        boolean dense = 4 * (sequenceBytes + len) >= Math.max(lastReadEnd, end) - Math.min(sequenceStart, position);
        boolean sequential = position == 0 && lastReadEnd < 0
                || lastReadEnd >= 0 && position >= sequenceStart - SEQUENTIAL_SLACK
                        && (distance <= SEQUENTIAL_SLACK || distance <= window() && dense);
        if (!sequential) {
            // A new sequence: what was fetched for the old one is dropped once it falls behind (sweep).
            sequenceStart = position;
            lastReadEnd = end;
            fetchedTo = end;
            sequenceBytes = len;
            return null;
        }
        if (sequenceStart < 0) {
            sequenceStart = position;
        }
        sequenceBytes += len;
        lastReadEnd = Math.max(lastReadEnd, end);
        long window = window();
        // From the end of this read: the read's own blocks are fetched on demand, not queued behind these.
        long from = Math.max(fetchedTo, end);
        long stop = Math.min(fileLength, limit);
        long to = Math.min(stop, position + window);
        // Refill in steps of a quarter window, so the store sees whole blocks, several at a time.
        if (to - from < Math.max(blockSize, window / 4) && to < stop) {
            return null;
        }
        if (to <= from) {
            return null;
        }
        fetchedTo = to;
        return new long[] {from, to};
    }

    /**
     * Read-ahead stopped at file offset {@code position} for want of memory: the window's fetches resume there
     * with a later read (else the blocks past it were left to be read on demand, one at a time).
     */
    synchronized void fetchedOnlyTo(long position) {
        fetchedTo = Math.min(fetchedTo, position);
    }

    /** The window of the current sequence: twice what it has read, from two blocks up to {@code readAhead}. */
    private long window() {
        long read = sequenceStart < 0 ? 0 : lastReadEnd - sequenceStart;
        return Math.min(maxWindow, Math.max((long) INITIAL_BLOCKS * blockSize, 2 * read));
    }

    /** True if this stream already has the block, fetched or on its way. */
    synchronized boolean has(String key) {
        return blocks.containsKey(key);
    }

    /**
     * Adds a block whose visible bytes in the range being fetched end at {@code fileEnd}; the caller has
     * reserved its length from the budget, which this stream gives back when it drops the block.
     */
    synchronized boolean add(Block b, long visible, long fileEnd) {
        if (closed || blocks.containsKey(b.key)) {
            return false;
        }
        b.unread = visible;
        b.fileStart = fileEnd - visible;
        b.fileEnd = fileEnd;
        blocks.put(b.key, b);
        return true;
    }

    /**
     * Adds the bytes of a block already held that file range [fileEnd - visible, fileEnd) shows, less those
     * its earlier ranges covered: a range fetched again (a new sequence over blocks still held) adds nothing,
     * and the block is still dropped once its bytes have been read once. A second run of the block elsewhere
     * in the file counts whole, and the span between the runs counts as covered: at worst the block is dropped
     * before its last bytes are read, which then come from the shared cache.
     */
    synchronized void addVisible(String key, long visible, long fileEnd) {
        Block b = blocks.get(key);
        if (b != null) {
            long start = fileEnd - visible;
            long before = b.fileEnd - b.fileStart;
            long after = Math.max(b.fileEnd, fileEnd) - Math.min(b.fileStart, start);
            boolean apart = start > b.fileEnd || fileEnd < b.fileStart;
            b.unread += apart ? visible : after - before;
            b.fileStart = Math.min(b.fileStart, start);
            b.fileEnd = Math.max(b.fileEnd, fileEnd);
        }
    }

    /** A block this stream holds, or null. */
    synchronized Block get(String key) {
        return blocks.get(key);
    }

    /**
     * The reader took the block's bytes that are the file's [position, position+n): those of them it was
     * fetched for count as read, and once they all are, the block is dropped. Bytes outside that range (the
     * read that started the window, which takes the first block before the window's range begins) do not
     * count: counting them dropped the block before the reader was done with it, and it was fetched again.
     */
    void taken(String key, long position, int n) {
        Block dropped = null;
        synchronized (this) {
            Block b = blocks.get(key);
            if (b != null) {
                b.unread -= Math.max(0, Math.min(position + n, b.fileEnd) - Math.max(position, b.fileStart));
                if (b.unread <= 0) {
                    dropped = blocks.remove(key);
                }
            }
        }
        if (dropped != null) {
            budget.giveBack(dropped);
        }
    }

    /** Drops one block (its fetch failed). */
    void drop(String key) {
        Block b;
        synchronized (this) {
            b = blocks.remove(key);
        }
        if (b != null) {
            budget.giveBack(b);
        }
    }

    /** Drops blocks the reader has gone past without taking (it jumped): read-ahead is never kept for long. */
    void sweep() {
        List<Block> dropped = new ArrayList<>();
        synchronized (this) {
            long behind = lastReadEnd - Math.max(maxWindow, 4L * blockSize);
            for (Iterator<Block> it = blocks.values().iterator(); it.hasNext();) {
                Block b = it.next();
                if (b.fileEnd <= behind || b.fileEnd > lastReadEnd + 2 * Math.max(maxWindow, blockSize)) {
                    it.remove();
                    dropped.add(b);
                }
            }
        }
        dropped.forEach(budget::giveBack);
    }

    /** The handle was closed: everything is dropped. */
    void close() {
        List<Block> dropped;
        synchronized (this) {
            closed = true;
            dropped = new ArrayList<>(blocks.values());
            blocks.clear();
        }
        dropped.forEach(budget::giveBack);
    }
}
