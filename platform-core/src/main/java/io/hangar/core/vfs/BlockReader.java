package io.hangar.core.vfs;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.hangar.core.cache.CacheGroup;
import io.hangar.core.cache.DiskBlockCache;
import io.hangar.core.layout.ChunkLayout;
import io.hangar.core.layout.Segment;
import io.hangar.core.layout.SliceMerger;
import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.store.StoreException;
import com.github.benmanes.caffeine.cache.RemovalCause;
import java.nio.ByteBuffer;
import java.time.Duration;
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
final class BlockReader implements CacheGroup.BlockSource {
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
    private final Executor aheadPool;
    private final AsyncCache<String, BlockBuffer> blocks;
    private final BlockPool pool;
    private final Cache<ChunkKey, List<Segment>> segments;
    private final Cache<Long, Long> lengths;
    // Bumped by every invalidation of an inode (striped by inode): a load that raced with a commit must not
    // put what it read before the commit into the cache after the commit dropped it.
    private final AtomicLongArray generations = new AtomicLongArray(1024);
    private final Compactor compactor;
    private final int compactThreshold;
    private final VfsMetrics metrics;
    /** The disk tier below the memory cache; null without cache directories. */
    private final DiskBlockCache disk;
    private final boolean cacheWritesToDisk;
    /** The cache group this volume's process belongs to; null if none. Set once, before the first read. */
    private volatile CacheGroup group;
    /**
     * Where blocks are fetched for peers: not the read pool, whose threads may all be waiting on peers (two
     * members asking each other would then wait for each other until their requests time out).
     */
    private volatile Executor groupPool;
    /** Blocks being loaded now, by key (see {@link #loadNow(String, int, boolean)}). */
    private final java.util.concurrent.ConcurrentHashMap<String, CompletableFuture<BlockBuffer>> loading =
            new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.LongAdder storeReads = new java.util.concurrent.atomic.LongAdder();

    /**
     * Demand reads are fetched on {@code readPool}, read-ahead on {@code aheadPool}: a read never queues
     * behind blocks fetched for later.
     */
    BlockReader(MetadataEngine meta, StoreGate gate, ChunkLayout layout, BlockPool pool, Executor readPool,
            Executor aheadPool, long cacheBytes, Compactor compactor, int compactThreshold, VfsMetrics metrics,
            DiskBlockCache disk, boolean cacheWritesToDisk) {
        this.meta = meta;
        this.disk = disk;
        this.cacheWritesToDisk = cacheWritesToDisk;
        this.metrics = metrics;
        this.pool = pool;
        this.gate = gate;
        this.layout = layout;
        this.readPool = readPool;
        this.aheadPool = aheadPool;
        this.compactor = compactor;
        this.compactThreshold = compactThreshold;
        this.blocks = Caffeine.newBuilder()
                .maximumWeight(Math.max(cacheBytes, layout.blockSize()))
                .weigher((String k, BlockBuffer v) -> v.capacity())
                .executor(readPool)
                .recordStats()
                // The cache holds one reference of each block it keeps.
                .removalListener((String k, BlockBuffer v, RemovalCause cause) -> {
                    if (v != null) {
                        v.release();
                    }
                })
                .buildAsync();
        this.segments = Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(LIST_TTL).build();
        this.lengths = Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(LIST_TTL).build();
        Cache<String, BlockBuffer> cache = blocks.synchronous();
        metrics.functionCounter("hangar_blockcache_hits", null, "block reads served from the block cache", cache,
                c -> c.stats().hitCount());
        metrics.functionCounter("hangar_blockcache_miss", null, "block reads the cache fetched from the store",
                cache, c -> c.stats().missCount());
        metrics.functionCounter("hangar_blockcache_evictions", null, "blocks evicted from the cache", cache,
                c -> c.stats().evictionCount());
        metrics.gauge("hangar_blockcache_blocks", null, "blocks in the cache", cache, Cache::estimatedSize);
        metrics.gauge("hangar_blockcache", "bytes", "bytes of blocks in the cache", cache,
                c -> c.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L));
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
    void read(long inode, long position, ByteBuffer dst, ReadAhead ahead) throws FsException {
        while (dst.hasRemaining()) {
            int chunk = layout.chunkIndex(position);
            int pos = layout.offsetInChunk(position);
            int n = Math.min(dst.remaining(), layout.chunkSize() - pos);
            ByteBuffer part = dst.duplicate();
            part.limit(part.position() + n);
            readChunk(inode, chunk, pos, part, ahead);
            dst.position(dst.position() + n);
            position += n;
        }
    }

    /** Copies chunk bytes [pos, pos+dst.remaining()) into dst; uncovered parts read as zeros. */
    void readChunk(long inode, int chunk, int pos, ByteBuffer dst, ReadAhead ahead) throws FsException {
        List<Segment> segs = segments(inode, chunk);
        for (int retry = 0;; retry++) {
            try {
                readSegments(segs, layout.chunkStart(chunk), pos, dst.duplicate(), ahead);
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

    @Override
    public boolean isMissing(FsException e) {
        return isMissingBlock(e);
    }

    /**
     * Copies chunk bytes [pos, pos+dst.remaining()) as described by {@code segs} into dst (moving its position
     * to its limit); {@code chunkStart} is the chunk's offset in the file (for the stream's read-ahead).
     */
    void readSegments(List<Segment> segs, long chunkStart, int pos, ByteBuffer dst, ReadAhead ahead)
            throws FsException {
        int end = pos + dst.remaining();
        int filled = pos; // bytes before this are written; segments come in position order, never overlapping
        for (Segment s : segs) {
            if (s.end() <= pos || s.pos() >= end || s.isZero()) {
                continue;
            }
            int from = Math.max(pos, s.pos());
            int to = Math.min(end, s.end());
            zero(dst, from - filled);
            copyFromSlice(s.sliceId(), s.sliceSize(), s.sliceOff() + (from - s.pos()), dst, to - from, ahead,
                    chunkStart + from);
            filled = to;
        }
        zero(dst, end - filled);
    }

    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(64 << 10);

    /** Writes {@code n} zero bytes at dst's position (holes: only where a slice leaves one). */
    private static void zero(ByteBuffer dst, int n) {
        while (n > 0) {
            int k = Math.min(n, ZEROS.capacity());
            dst.put(dst.position(), ZEROS, 0, k);
            dst.position(dst.position() + k);
            n -= k;
        }
    }

    /**
     * Copies {@code len} bytes of a stored slice from {@code sliceOff} to dst, block by block; they are the
     * file's bytes from {@code filePos}.
     */
    private void copyFromSlice(long id, int size, int sliceOff, ByteBuffer dst, int len, ReadAhead ahead,
            long filePos) throws FsException {
        int bs = layout.blockSize();
        while (len > 0) {
            int index = sliceOff / bs;
            int inBlock = sliceOff % bs;
            int blen = layout.blockLength(size, index);
            int n = Math.min(len, blen - inBlock);
            String key = layout.blockKey(id, index, blen);
            BlockBuffer block = acquire(key, blen, ahead);
            try {
                ByteBuffer part = dst.duplicate();
                part.limit(part.position() + n);
                block.get(inBlock, part);
                dst.position(dst.position() + n);
            } finally {
                block.release();
            }
            if (ahead != null) {
                ahead.taken(key, filePos, n); // a no-op unless the block came from the stream's read-ahead
            }
            filePos += n;
            sliceOff += n;
            len -= n;
        }
    }

    /**
     * Hands file bytes [position, position+n) to {@code sink} as a read-only view of one block's memory, if
     * they lie in one stored block of one segment; false (sink not called) otherwise. {@code beforeFetch} runs
     * once the range is known to be one block's, before waiting for the block; a range that is not one block's
     * returns false without it (only a list found stale meanwhile can end false after it ran).
     */
    boolean view(long inode, long position, int n, ReadAhead ahead, Runnable beforeFetch,
            io.hangar.vfs.FileHandle.ViewReader sink) throws FsException {
        boolean started = false;
        int chunk = layout.chunkIndex(position);
        int pos = layout.offsetInChunk(position);
        if (pos + n > layout.chunkSize()) {
            return false;
        }
        for (int retry = 0;; retry++) {
            List<Segment> segs = segments(inode, chunk);
            Segment seg = null;
            for (Segment s : segs) {
                if (s.pos() <= pos && pos < s.end()) {
                    seg = s;
                    break;
                }
            }
            if (seg == null || seg.isZero() || pos + n > seg.end()) {
                return false;
            }
            int bs = layout.blockSize();
            int sliceOff = seg.sliceOff() + (pos - seg.pos());
            int index = sliceOff / bs;
            int inBlock = sliceOff % bs;
            int blen = layout.blockLength(seg.sliceSize(), index);
            if (inBlock + n > blen) {
                return false;
            }
            String key = layout.blockKey(seg.sliceId(), index, blen);
            if (!started) {
                started = true;
                beforeFetch.run();
            }
            BlockBuffer block;
            try {
                block = acquire(key, blen, ahead);
            } catch (FsException e) {
                if (!isMissingBlock(e) || retry == STALE_LIST_RETRIES) {
                    throw e;
                }
                invalidate(inode, chunk); // the list named a replaced slice: ask the engine again
                continue;
            }
            try {
                sink.read(block.view(inBlock + n).position(inBlock).slice().asReadOnlyBuffer());
            } finally {
                block.release();
            }
            if (ahead != null) {
                ahead.taken(key, position, n);
            }
            return true;
        }
    }

    /** A block, retained: from the stream's read-ahead if it has it, else from the cache (fetched if absent). */
    private BlockBuffer acquire(String key, int blen, ReadAhead ahead) throws FsException {
        BlockBuffer b = ahead == null ? null : fromReadAhead(ahead, key);
        return b != null ? b : fromCache(key, blen);
    }

    /** The block from the stream's read-ahead, retained, or null (not there, or its fetch failed). */
    private BlockBuffer fromReadAhead(ReadAhead ahead, String key) {
        ReadAhead.Block fetched = ahead.get(key);
        if (fetched == null) {
            return null;
        }
        fetched.fetch.run(); // if no read-ahead thread has taken it up yet, fetch it here, now
        try {
            BlockBuffer b = await(fetched.data, key);
            if (b.retain()) {
                metrics.readAheadHits.increment();
                return b;
            }
        } catch (FsException e) {
            // Fetched ahead and failed: the read itself tries again, on demand.
        }
        ahead.drop(key);
        return null;
    }

    /** The block from the shared cache, fetched into it if absent; retained. */
    private BlockBuffer fromCache(String key, int blen) throws FsException {
        for (int attempt = 0; attempt < 8; attempt++) {
            BlockBuffer b = await(fetch(key, blen), key);
            if (b.retain()) {
                return b;
            }
            // Evicted and released between the lookup and now: look again (it is fetched anew).
        }
        return loadNow(key, blen); // the cache cannot keep it at all: read it for this read alone
    }

    private static BlockBuffer await(CompletableFuture<BlockBuffer> f, String key) throws FsException {
        try {
            return f.get();
        } catch (java.util.concurrent.CancellationException e) {
            throw new FsException(Errno.EIO, "read of " + key + " was cancelled");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(Errno.EIO, "interrupted reading " + key);
        } catch (ExecutionException e) {
            throw unwrap(e.getCause(), key);
        }
    }

    /** A block from the shared cache, fetched on demand into it if absent. */
    private CompletableFuture<BlockBuffer> fetch(String key, int expected) {
        return blocks.get(key, (k, executor) -> load(k, expected, readPool));
    }

    private CompletableFuture<BlockBuffer> load(String key, int expected, Executor executor) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return loadNow(key, expected);
            } catch (FsException e) {
                throw new CompletionException(e);
            }
        }, executor);
    }

    /**
     * Reads a block into pooled native memory: from the disk cache if it holds the block intact, else from
     * the store (one copy, the store's own), keeping a copy in the disk cache.
     */
    private BlockBuffer loadNow(String key, int expected) throws FsException {
        return loadNow(key, expected, true);
    }

    /**
     * As {@link #loadNow(String, int)}; {@code viaPeers}: a block this member does not own is asked of its owner
     * in the cache group first (false when serving a peer: a member never forwards a peer's request).
     */
    private BlockBuffer loadNow(String key, int expected, boolean viaPeers) throws FsException {
        CacheGroup g = group;
        if (viaPeers && g != null && !g.ownsHere(key)) {
            return loadAlone(key, expected, g); // from its owner: the owner shares its load among the askers
        }
        // One load from here of a block at a time: a read-ahead, a demand read and a peer's request for the
        // same block (each its own path to here) share it, so an owner reads each block from the store once.
        // Loads from a peer are not shared with these: a peer's request must never wait for another peer.
        CompletableFuture<BlockBuffer> mine = new CompletableFuture<>();
        CompletableFuture<BlockBuffer> running = loading.putIfAbsent(key, mine);
        if (running != null) {
            BlockBuffer shared = await(running, key);
            if (shared.retain()) {
                return shared;
            }
            return loadAlone(key, expected, null); // released meanwhile: load it again
        }
        try {
            BlockBuffer b = loadAlone(key, expected, null);
            mine.complete(b);
            return b;
        } catch (FsException | RuntimeException e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            loading.remove(key, mine);
        }
    }

    /** Loads a block: from the disk cache, else from {@code peers} (null: not asked), else from the store. */
    private BlockBuffer loadAlone(String key, int expected, CacheGroup g) throws FsException {
        BlockBuffer b = pool.allocate(expected);
        try {
            if (disk != null && disk.read(key, b.view(expected), expected)) {
                return b;
            }
            if (g != null && g.fetch(key, b.view(expected), expected)) {
                // The owner caches the block; a member that owns nothing (--no-sharing) keeps it on its disk too.
                if (disk != null && !g.sharing() && b.retain()) {
                    disk.writeLater(key, b.view(expected), b::release);
                }
                return b;
            }
            readStore(key, b, expected);
            if (disk != null && b.retain()) {
                disk.writeLater(key, b.view(expected), b::release);
            }
            return b;
        } catch (FsException | RuntimeException e) {
            b.release();
            throw e;
        }
    }

    /** Reads block {@code key} of {@code expected} bytes from the store into {@code b}. */
    private void readStore(String key, BlockBuffer b, int expected) throws FsException {
        storeReads.increment();
        int n = gate.call("read " + key, s -> s.get(key, 0, b.view(expected)));
        if (n != expected) {
            throw new FsException(Errno.EIO, "block " + key + " has " + n + " bytes, expected " + expected);
        }
    }

    long blocksReadFromStore() {
        return storeReads.sum();
    }

    /** Joins the reads to a cache group: blocks this member does not own are asked of their owners. */
    void bindGroup(CacheGroup g, Executor loads) {
        this.groupPool = loads;
        this.group = g;
    }

    /**
     * Serves a block to a member of the group. A block this member owns goes through the shared cache, so a
     * peer's request and this member's own reads of it share one fetch from the store; one it does not own (the
     * members' views of the group differ for a moment) is read from this member's caches or the store, never
     * forwarded.
     */
    @Override
    public void serve(String key, int length, CacheGroup.BlockSink sink) throws FsException, java.io.IOException {
        CacheGroup g = group;
        BlockBuffer b = g == null || g.ownsHere(key) ? fromCacheForPeer(key, length) : servedLocally(key, length);
        try {
            sink.send(b.view(length).asReadOnlyBuffer());
        } finally {
            b.release();
        }
    }

    /** As {@link #fromCache}, fetching on the group's pool and never from a peer. */
    private BlockBuffer fromCacheForPeer(String key, int blen) throws FsException {
        for (int attempt = 0; attempt < 8; attempt++) {
            BlockBuffer b = await(blocks.get(key, (k, executor) -> CompletableFuture.supplyAsync(() -> {
                try {
                    return loadNow(k, blen, false);
                } catch (FsException e) {
                    throw new CompletionException(e);
                }
            }, groupPool)), key);
            if (b.retain()) {
                return b;
            }
        }
        return loadNow(key, blen, false);
    }

    private BlockBuffer servedLocally(String key, int length) throws FsException {
        CompletableFuture<BlockBuffer> f = blocks.getIfPresent(key);
        if (f != null && f.isDone() && !f.isCompletedExceptionally()) {
            BlockBuffer b = f.join();
            if (b.retain()) {
                return b;
            }
        }
        return loadNow(key, length, false);
    }

    /**
     * Puts one block in this member's cache for a peer's warm-up (the disk cache when there is one, else the
     * memory cache); returns the bytes read from the store for it.
     */
    @Override
    public long warm(String key, int length) throws FsException {
        if (disk != null) {
            if (disk.holds(key)) {
                return 0;
            }
            BlockBuffer b = pool.allocate(length);
            try {
                readStore(key, b, length);
                disk.write(key, b.view(length)); // on disk when the peer hears back
            } finally {
                b.release();
            }
            return length;
        }
        if (blocks.asMap().containsKey(key)) {
            return 0;
        }
        fromCacheForPeer(key, length).release();
        return length;
    }

    /**
     * Starts the demand fetches of the blocks behind file range [position, position+len) that neither the
     * stream's read-ahead nor the cache has, so that they run in parallel with each other and ahead of the
     * stream's read-ahead; errors are left to the read.
     */
    void startDemand(long inode, long position, int len, ReadAhead ahead) {
        forEachBlock(inode, position, position + len, (key, blen, visible, fileEnd) -> {
            if (ahead == null || !ahead.has(key)) {
                fetch(key, blen);
            }
            return true;
        });
    }

    /** What {@link #forEachBlock} calls per block: false stops the walk. */
    private interface BlockVisitor {
        boolean visit(String key, int blockLength, int visibleBytes, long fileEnd);
    }

    /**
     * Walks the stored blocks behind file range [from, to), in file order: each block with the number of its
     * bytes the range shows and the file position where they end. Stops quietly at a metadata error.
     */
    private void forEachBlock(long inode, long from, long to, BlockVisitor visitor) {
        try {
            walkBlocks(inode, from, to, visitor);
        } catch (FsException | RuntimeException e) {
            // A hint only: the read itself reports the error.
        }
    }

    /** As {@link #forEachBlock}, with metadata errors thrown. */
    private void walkBlocks(long inode, long from, long to, BlockVisitor visitor) throws FsException {
        int bs = layout.blockSize();
        long position = from;
        while (position < to) {
            int chunk = layout.chunkIndex(position);
            long chunkStart = layout.chunkStart(chunk);
            int pos = layout.offsetInChunk(position);
            int chunkEnd = (int) Math.min(layout.chunkSize(), to - chunkStart);
            for (Segment s : segments(inode, chunk)) {
                if (s.end() <= pos || s.pos() >= chunkEnd || s.isZero()) {
                    continue;
                }
                int runFrom = Math.max(pos, s.pos());
                int runTo = Math.min(chunkEnd, s.end());
                int sliceFrom = s.sliceOff() + runFrom - s.pos();
                int sliceTo = s.sliceOff() + runTo - s.pos();
                for (int b = sliceFrom / bs; b * bs < sliceTo; b++) {
                    int blen = layout.blockLength(s.sliceSize(), b);
                    int visFrom = Math.max(sliceFrom, b * bs);
                    int visTo = Math.min(sliceTo, b * bs + blen);
                    long fileEnd = chunkStart + s.pos() + (visTo - s.sliceOff());
                    if (!visitor.visit(layout.blockKey(s.sliceId(), b, blen), blen, visTo - visFrom, fileEnd)) {
                        return;
                    }
                }
            }
            position = chunkStart + chunkEnd;
        }
    }

    /** What {@link #eachStoredBlock} calls per block. */
    interface StoredBlockVisitor {
        void visit(String key, int blockLength) throws FsException;
    }

    /**
     * Every stored block a file's committed data shows, each once (a block behind several segments of its
     * chunk is met once per chunk, and a slice belongs to one chunk); memory: one chunk's keys at a time.
     */
    void eachStoredBlock(long inode, StoredBlockVisitor visitor) throws FsException {
        long len = length(inode);
        int chunks = len == 0 ? 0 : layout.chunkIndex(len - 1) + 1;
        for (int c = 0; c < chunks; c++) {
            long from = layout.chunkStart(c);
            java.util.Map<String, Integer> seen = new java.util.LinkedHashMap<>();
            walkBlocks(inode, from, Math.min(len, from + layout.chunkSize()), (key, blen, visible, fileEnd) -> {
                seen.putIfAbsent(key, blen);
                return true;
            });
            for (java.util.Map.Entry<String, Integer> e : seen.entrySet()) {
                visitor.visit(e.getKey(), e.getValue());
            }
        }
    }

    /**
     * {stored, on disk, in memory, in the group (here or at the block's owner; -1 without a group)} bytes of a
     * file's blocks. In a group, each block this member lacks and does not own costs one question to its owner.
     */
    long[] cacheState(long inode) throws FsException {
        long[] s = new long[4];
        CacheGroup g = group;
        s[3] = g == null ? -1 : 0;
        eachStoredBlock(inode, (key, blen) -> {
            s[0] += blen;
            boolean onDisk = disk != null && disk.holds(key);
            boolean inMemory = blocks.synchronous().asMap().containsKey(key); // a look: not a hit or a miss
            if (onDisk) {
                s[1] += blen;
            }
            if (inMemory) {
                s[2] += blen;
            }
            if (g != null && (onDisk || inMemory || (!g.ownsHere(key) && g.heldByOwner(key)))) {
                s[3] += blen;
            }
        });
        return s;
    }

    /** True if this member's disk or memory cache holds the block (a peer's question). */
    @Override
    public boolean holds(String key) {
        return (disk != null && disk.holds(key)) || blocks.synchronous().asMap().containsKey(key);
    }

    /**
     * Blocks the volume's warm-ups fetch at once, all files together (rados bench's default concurrency):
     * enough to keep a store busy, 64 MiB of 4 MiB blocks.
     */
    static final int WARM_IN_FLIGHT = 16;
    private final java.util.concurrent.Semaphore warmSlots = new java.util.concurrent.Semaphore(WARM_IN_FLIGHT);
    /** Where warm-ups fetch: not the read pool, which demand reads need meanwhile. */
    private volatile Executor warmPool;

    void bindWarmPool(Executor pool) {
        this.warmPool = pool;
    }

    /**
     * Fetches the file's blocks the cache lacks: into the disk cache (bypassing the memory cache, which a
     * large warm-up would only churn) when there is one, else into the memory cache. Returns bytes fetched.
     */
    long warm(long inode) throws FsException {
        java.util.concurrent.Semaphore slots = new java.util.concurrent.Semaphore(WARM_IN_FLIGHT);
        java.util.concurrent.atomic.AtomicLong fetched = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        Cache<String, BlockBuffer> memory = blocks.synchronous();
        try {
            eachStoredBlock(inode, (key, blen) -> {
                if (failure.get() != null) {
                    return;
                }
                if (disk != null ? disk.holds(key) : memory.getIfPresent(key) != null) {
                    return;
                }
                slots.acquireUninterruptibly();
                warmSlots.acquireUninterruptibly();
                Executor on = warmPool != null ? warmPool : readPool;
                CompletableFuture<Long> f; // completes with the bytes read from the store for the block
                CacheGroup g = group;
                if (g != null && !g.ownsHere(key)) {
                    // The owner warms its own blocks; if it cannot, this member warms the block itself.
                    f = CompletableFuture.supplyAsync(() -> {
                        long atOwner = g.warmAtOwner(key);
                        if (atOwner >= 0) {
                            return atOwner;
                        }
                        try {
                            return warm(key, blen);
                        } catch (FsException e) {
                            throw new CompletionException(e);
                        }
                    }, on);
                } else if (disk != null) {
                    f = CompletableFuture.supplyAsync(() -> {
                        try {
                            loadNow(key, blen).release(); // the disk cache's writer keeps its own reference
                            return (long) blen;
                        } catch (FsException e) {
                            throw new CompletionException(e);
                        }
                    }, on);
                } else {
                    f = fetch(key, blen).thenApply(b -> (long) blen);
                }
                f.whenComplete((n, t) -> {
                    if (t == null) {
                        fetched.addAndGet(n);
                    } else {
                        failure.compareAndSet(null, t);
                    }
                    warmSlots.release();
                    slots.release();
                });
            });
        } finally {
            slots.acquireUninterruptibly(WARM_IN_FLIGHT); // every fetch has ended
        }
        if (failure.get() != null) {
            throw unwrap(failure.get(), "warm-up of inode " + inode);
        }
        if (disk != null) {
            try {
                disk.awaitWrites(); // "warmed" means on disk, as a check right after will find it
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new FsException(Errno.EIO, "warm-up of inode " + inode + " interrupted");
            }
        }
        return fetched.get();
    }

    /** Drops a file's blocks from the disk cache; returns the bytes dropped. */
    long evict(long inode) throws FsException {
        if (disk == null) {
            return 0;
        }
        long[] dropped = new long[1];
        eachStoredBlock(inode, (key, blen) -> {
            if (disk.drop(key) > 0) {
                dropped[0] += blen;
            }
        });
        return dropped[0];
    }

    /**
     * Starts fetching the blocks behind file range [from, to) into a stream's read-ahead, without waiting for
     * them: blocks the shared cache or the stream already has are skipped, and fetching stops where the
     * read-ahead budget has no memory left (the stream asks for the rest again with its next read).
     */
    void prefetch(long inode, long from, long to, ReadAhead ahead, ReadAheadBudget budget) {
        forEachBlock(inode, from, to, (key, blen, visible, fileEnd) -> {
            if (ahead.has(key)) {
                ahead.addVisible(key, visible, fileEnd);
                return true;
            }
            // A look, not a read: it must not count as a cache hit or miss.
            if (blocks.asMap().containsKey(key)) {
                return true;
            }
            if (!budget.tryReserve(blen)) {
                ahead.fetchedOnlyTo(fileEnd - visible);
                return false;
            }
            ReadAhead.Block b = new ReadAhead.Block(key, blen, new ReadAhead.Fetch(() -> {
                try {
                    BlockBuffer data = loadNow(key, blen);
                    metrics.readAheadFetchedBytes.increment(blen);
                    return data;
                } catch (FsException e) {
                    throw new CompletionException(e);
                }
            }));
            if (!ahead.add(b, visible, fileEnd)) {
                budget.giveBack(b);
                return true;
            }
            try {
                aheadPool.execute(b.fetch);
            } catch (RuntimeException e) {
                ahead.drop(key); // the volume is closing
                return false;
            }
            return true;
        });
    }

    /** Puts a freshly written block in the cache, so reading back what was just written costs no fetch. */
    /**
     * A block just stored: the disk cache keeps a copy if it keeps written blocks; the memory cache keeps a
     * whole block's buffer (another reference to it).
     */
    void cacheWritten(String key, BlockBuffer data, int length) {
        if (disk != null && cacheWritesToDisk && data.retain()) {
            disk.writeLater(key, data.view(length), data::release);
        }
        if (data.capacity() == length && data.retain()) {
            blocks.put(key, CompletableFuture.completedFuture(data));
        }
    }

    /** A compacted block just stored (a heap array of its own): kept on disk if the disk cache keeps writes. */
    void cacheWrittenToDisk(String key, ByteBuffer data) {
        if (disk != null && cacheWritesToDisk) {
            disk.writeLater(key, data, () -> { });
        }
    }

    /** A block deleted from the store: its disk copy goes too (it would never be read again). */
    void dropCached(String key) {
        if (disk != null) {
            disk.drop(key);
        }
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
