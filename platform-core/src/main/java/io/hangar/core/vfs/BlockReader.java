package io.hangar.core.vfs;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.hangar.core.layout.ChunkLayout;
import io.hangar.core.layout.Segment;
import io.hangar.core.layout.SliceMerger;
import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.store.StoreException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Reads file bytes: merges a chunk's slices into visible segments and copies them out of blocks. Blocks are
 * immutable, so a cached block is never stale; the segment lists are cached for {@link #LIST_TTL} and dropped
 * whenever this volume changes the chunk or a file is opened (close-to-open consistency).
 *
 * <p>A list read earlier (cached, or read just before) may name slices that compaction or a truncate on this
 * or another client has since replaced, and whose blocks are deleted. A block found missing therefore makes
 * the reader read the chunk's list again and retry with it, a bounded number of times; only a block missing
 * from the current list is an error (EIO).
 */
final class BlockReader {
    /** How long a chunk's segment list (and a file's length) is used without asking the engine again. */
    static final Duration LIST_TTL = Duration.ofSeconds(1);
    /** Re-reads of a chunk's list after missing blocks, before giving up (each means the chunk changed again). */
    private static final int STALE_LIST_RETRIES = 8;

    private record ChunkKey(long inode, int chunk) {
    }

    private final MetadataEngine meta;
    private final StoreGate gate;
    private final ChunkLayout layout;
    private final Executor readPool;
    private final AsyncCache<String, byte[]> blocks;
    private final Cache<ChunkKey, List<Segment>> segments;
    private final Cache<Long, Long> lengths;
    // Bumped by every invalidation of an inode (striped by inode): a load that raced with a commit must not
    // put what it read before the commit into the cache after the commit dropped it.
    private final AtomicLongArray generations = new AtomicLongArray(1024);
    private final Compactor compactor;
    private final int compactThreshold;

    BlockReader(MetadataEngine meta, StoreGate gate, ChunkLayout layout, Executor readPool, long cacheBytes,
            Compactor compactor, int compactThreshold) {
        this.meta = meta;
        this.gate = gate;
        this.layout = layout;
        this.readPool = readPool;
        this.compactor = compactor;
        this.compactThreshold = compactThreshold;
        this.blocks = Caffeine.newBuilder()
                .maximumWeight(Math.max(cacheBytes, layout.blockSize()))
                .weigher((String k, byte[] v) -> v.length)
                .executor(readPool)
                .buildAsync();
        this.segments = Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(LIST_TTL).build();
        this.lengths = Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(LIST_TTL).build();
    }

    private int stripe(long inode) {
        return (int) (Long.hashCode(inode) & (generations.length() - 1));
    }

    void invalidate(long inode) {
        generations.incrementAndGet(stripe(inode));
        segments.asMap().keySet().removeIf(k -> k.inode == inode);
        lengths.invalidate(inode);
    }

    void invalidate(long inode, int chunk) {
        generations.incrementAndGet(stripe(inode));
        segments.invalidate(new ChunkKey(inode, chunk));
        lengths.invalidate(inode);
    }

    /**
     * The committed length of a file, cached like the segments: this volume's own commits and truncates
     * drop it, and opening a file drops it, so other clients' changes are seen from the next open on.
     */
    long length(long inode) throws FsException {
        Long len = lengths.getIfPresent(inode);
        if (len == null) {
            long generation = generations.get(stripe(inode));
            len = meta.getattr(inode).length();
            if (generations.get(stripe(inode)) == generation) {
                lengths.put(inode, len);
            }
        }
        return len;
    }

    List<Segment> segments(long inode, int chunk) throws FsException {
        ChunkKey key = new ChunkKey(inode, chunk);
        List<Segment> s = segments.getIfPresent(key);
        if (s == null) {
            long generation = generations.get(stripe(inode));
            var slices = meta.readChunk(inode, chunk);
            if (slices.size() >= compactThreshold) {
                compactor.request(inode, chunk);
            }
            s = SliceMerger.merge(slices);
            if (generations.get(stripe(inode)) == generation) {
                segments.put(key, s);
            }
        }
        return s;
    }

    /**
     * Fills {@code buf[off, off+len)} with file bytes from {@code position}; the caller has cut the range at
     * the end of the file.
     */
    void read(long inode, long position, byte[] buf, int off, int len) throws FsException {
        while (len > 0) {
            int chunk = layout.chunkIndex(position);
            int pos = layout.offsetInChunk(position);
            int n = Math.min(len, layout.chunkSize() - pos);
            readChunk(inode, chunk, pos, buf, off, n);
            position += n;
            off += n;
            len -= n;
        }
    }

    /** Copies chunk bytes [pos, pos+len) into buf; uncovered parts read as zeros. */
    void readChunk(long inode, int chunk, int pos, byte[] buf, int off, int len) throws FsException {
        List<Segment> segs = segments(inode, chunk);
        for (int retry = 0;; retry++) {
            try {
                readSegments(segs, pos, buf, off, len);
                return;
            } catch (FsException e) {
                if (!isMissingBlock(e) || retry == STALE_LIST_RETRIES) {
                    throw e;
                }
                // The list named a slice whose blocks are gone: it was replaced since. Ask the engine again.
                invalidate(inode, chunk);
                List<Segment> fresh = segments(inode, chunk);
                if (fresh.equals(segs)) {
                    throw e;
                }
                segs = fresh;
            }
        }
    }

    /** True for the error of a block that is not in the store. */
    static boolean isMissingBlock(FsException e) {
        return e.getCause() instanceof StoreException se && se.kind() == StoreException.Kind.NOT_FOUND;
    }

    /** Copies chunk bytes [pos, pos+len) as described by {@code segs} into buf. */
    void readSegments(List<Segment> segs, int pos, byte[] buf, int off, int len) throws FsException {
        Arrays.fill(buf, off, off + len, (byte) 0);
        int end = pos + len;
        for (Segment s : segs) {
            if (s.end() <= pos || s.pos() >= end || s.isZero()) {
                continue;
            }
            int from = Math.max(pos, s.pos());
            int to = Math.min(end, s.end());
            copyFromSlice(s.sliceId(), s.sliceSize(), s.sliceOff() + (from - s.pos()), buf, off + (from - pos),
                    to - from);
        }
    }

    /** Copies {@code len} bytes of a stored slice from {@code sliceOff}, block by block. */
    private void copyFromSlice(long id, int size, int sliceOff, byte[] buf, int off, int len) throws FsException {
        int bs = layout.blockSize();
        while (len > 0) {
            int index = sliceOff / bs;
            int inBlock = sliceOff % bs;
            int blen = layout.blockLength(size, index);
            int n = Math.min(len, blen - inBlock);
            byte[] block = block(layout.blockKey(id, index, blen), blen);
            System.arraycopy(block, inBlock, buf, off, n);
            sliceOff += n;
            off += n;
            len -= n;
        }
    }

    private byte[] block(String key, int expected) throws FsException {
        try {
            return fetch(key, expected).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(Errno.EIO, "interrupted reading " + key);
        } catch (ExecutionException e) {
            throw unwrap(e.getCause(), key);
        }
    }

    private CompletableFuture<byte[]> fetch(String key, int expected) {
        return blocks.get(key, (k, executor) -> CompletableFuture.supplyAsync(() -> {
            try {
                byte[] data = gate.call("read " + k, s -> s.get(k, 0, -1));
                if (data.length != expected) {
                    throw new FsException(Errno.EIO, "block " + k + " has " + data.length + " bytes, expected "
                            + expected);
                }
                return data;
            } catch (FsException e) {
                throw new CompletionException(e);
            }
        }, readPool));
    }

    /** Starts loading the blocks behind file range [position, position+len) without waiting for them. */
    void prefetch(long inode, long position, long len, long fileLength) {
        long end = Math.min(position + len, fileLength);
        int bs = layout.blockSize();
        try {
            while (position < end) {
                int chunk = layout.chunkIndex(position);
                int pos = layout.offsetInChunk(position);
                int chunkEnd = (int) Math.min(layout.chunkSize(), end - layout.chunkStart(chunk));
                for (Segment s : segments(inode, chunk)) {
                    if (s.end() <= pos || s.pos() >= chunkEnd || s.isZero()) {
                        continue;
                    }
                    int from = s.sliceOff() + Math.max(pos, s.pos()) - s.pos();
                    int to = s.sliceOff() + Math.min(chunkEnd, s.end()) - s.pos();
                    for (int b = from / bs; b * bs < to; b++) {
                        int blen = layout.blockLength(s.sliceSize(), b);
                        fetch(layout.blockKey(s.sliceId(), b, blen), blen);
                    }
                }
                position = layout.chunkStart(chunk) + chunkEnd;
            }
        } catch (FsException e) {
            // Read-ahead is a hint; the read itself will report the error.
        }
    }

    /** Puts a freshly written block in the cache, so reading back what was just written costs no fetch. */
    void cacheWritten(String key, byte[] data) {
        blocks.put(key, CompletableFuture.completedFuture(data));
    }

    static FsException unwrap(Throwable t, String what) {
        while (t instanceof CompletionException || t instanceof ExecutionException) {
            if (t.getCause() == null) {
                break;
            }
            t = t.getCause();
        }
        if (t instanceof FsException fe) {
            return fe;
        }
        return new FsException(Errno.EIO, what + ": " + t, t);
    }
}
