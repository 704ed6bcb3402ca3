package io.hangar.core.cache;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Blocks kept on local disks, below the in-memory block cache and above the chunk store. Blocks are immutable
 * (a key names one slice's block and its length, and slice ids are never reused), so a cached block never
 * goes stale and needs no invalidation.
 *
 * <p>Each directory holds {@code hangar-cache/<volume uuid>/<block key>}: the block's bytes followed by an
 * 8-byte trailer (CRC32C of the bytes, then the magic {@code HCB1}). A read checks length and checksum; a
 * block that fails either is deleted and reported absent, so the caller fetches it from the store again and a
 * damaged cache is never served. Files are written under a temporary name and renamed into place, without
 * fsync: a crash can leave a torn file, which the checksum catches.
 *
 * <p>Keys are spread over the directories by hash; each holds at most its share of {@code capacity}, and no
 * write goes to a disk whose free space is below {@code freeSpaceRatio} (least recently used blocks are
 * evicted first, in both cases). The index (key → length, in access order) lives in memory, at most
 * {@link #INDEX_BYTES_PER_BLOCK} bytes per block, and is rebuilt at start by scanning the directories in the background, oldest files first;
 * lookups made meanwhile check the file itself. Cache failures never fail a read or a write: they are
 * logged and counted, and the block goes to or comes from the store.
 */
public final class DiskBlockCache implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DiskBlockCache.class.getName());
    private static final int MAGIC = 0x48434231; // "HCB1"
    private static final int TRAILER = 8;
    private static final String TMP = ".tmp";
    /** Heap of one index entry, rounded up (the entry, its key string, the boxed size, the table slot). */
    public static final int INDEX_BYTES_PER_BLOCK = 160;
    /** Bytes of blocks waiting for the writer ({@link #writeLater}); past it, the caller writes the block. */
    public static final long MAX_PENDING = 64L << 20;

    private final List<Shard> shards = new ArrayList<>();
    private final AtomicLong hits = new AtomicLong();
    private final AtomicLong misses = new AtomicLong();
    private final AtomicLong corrupt = new AtomicLong();
    private final AtomicLong evictions = new AtomicLong();
    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong behind = new AtomicLong();
    private final AtomicLong pending = new AtomicLong();
    /** Blocks handed to the writer and not written yet (at most {@link #MAX_PENDING} bytes of them). */
    private final Map<String, Queued> queued = new java.util.concurrent.ConcurrentHashMap<>();
    private final Thread scanner;
    /** Writes blocks into the cache behind the reads that fetched them; one thread, the disk's pace. */
    private final java.util.concurrent.ExecutorService writer;
    private volatile boolean closed;
    /**
     * The alignment the cache's direct I/O needs of a block's memory, file offsets and lengths; block memory
     * is allocated so aligned. A directory whose file system asks for more is written through the page cache.
     */
    public static final int DIRECT_IO_ALIGNMENT = 4096;
    /** One lock per directory, held while open: two processes would evict each other's blocks unseen. */
    private final List<FileChannel> locks = new ArrayList<>();
    private final List<Path> lockedRoots = new ArrayList<>();
    /** The lock file in each directory (never a block). */
    public static final String LOCK = ".lock";
    /**
     * The directories this process has locked. Static because file locks belong to the process: a second
     * channel opened on a lock file and closed again would release the first one's lock (POSIX record locks),
     * so a directory locked here is refused before any file is opened.
     */
    private static final java.util.Set<Path> LOCKED_HERE = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * Opens (creating them) the cache directories of volume {@code volumeUuid} under {@code dirs}, and starts
     * rebuilding the index from what they hold. Each directory is locked while the cache is open: a directory
     * another process (or another open volume of this one) uses is refused with an IOException that says so.
     */
    public DiskBlockCache(List<Path> dirs, long capacity, double freeSpaceRatio, String volumeUuid)
            throws IOException {
        if (dirs.isEmpty()) {
            throw new IllegalArgumentException("no cache directory");
        }
        if (capacity < 0 || freeSpaceRatio < 0 || freeSpaceRatio >= 1) {
            throw new IllegalArgumentException("cache size must be >= 0 and free-space-ratio in [0, 1)");
        }
        try {
            for (Path d : dirs) {
                Path root = d.resolve("hangar-cache").resolve(volumeUuid);
                Files.createDirectories(root.resolve(TMP));
                lock(root);
                shards.add(new Shard(root, capacity / dirs.size(), freeSpaceRatio, Files.getFileStore(root)));
            }
        } catch (IOException | RuntimeException e) {
            unlock();
            throw e;
        }
        scanner = new Thread(this::scanAll, "hangar-cache-scan");
        scanner.setDaemon(true);
        scanner.start();
        writer = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "hangar-cache-write");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Keeps a copy of block {@code key} (the remaining bytes of {@code data}) later, on the cache's writer
     * thread, so that the read or upload that has the block does not wait for the disk; {@code done} runs
     * once {@code data} is no longer needed (the caller's buffer may then be reused). At most
     * {@link #MAX_PENDING} bytes wait: past that the caller writes the block itself (counted as
     * {@link #behind}), so a reader slows to the disk's pace rather than leave blocks uncached; once closed,
     * nothing is cached.
     */
    public void writeLater(String key, ByteBuffer data, Runnable done) {
        int n = data.remaining();
        if (closed) {
            done.run();
            return;
        }
        if (pending.addAndGet(n) > MAX_PENDING) {
            pending.addAndGet(-n);
            behind.incrementAndGet();
            try {
                write(key, data);
            } finally {
                done.run();
            }
            return;
        }
        Queued q = new Queued(data);
        queued.put(key, q);
        try {
            writer.execute(() -> {
                try {
                    write(key, data);
                } finally {
                    q.retire(queued, key);
                    pending.addAndGet(-n);
                    done.run();
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            q.retire(queued, key); // closed meanwhile
            pending.addAndGet(-n);
            done.run();
        }
    }

    /**
     * A block waiting for the writer: readable from memory until it is written (a block just fetched and asked
     * for again, before it reaches the disk, is not fetched twice). Retired under its lock before the caller's
     * buffer is given back, so a read never copies from a reused buffer.
     */
    private static final class Queued {
        private final ByteBuffer data;
        private boolean retired;

        Queued(ByteBuffer data) {
            this.data = data.duplicate();
        }

        synchronized boolean copyTo(ByteBuffer dst, int length) {
            if (retired || data.remaining() != length) {
                return false;
            }
            dst.duplicate().put(data.duplicate());
            return true;
        }

        synchronized void retire(Map<String, Queued> from, String key) {
            retired = true;
            from.remove(key, this);
        }
    }

    /**
     * Reads cached block {@code key} of exactly {@code length} bytes into {@code dst} (from its position; the
     * position is not moved). False if the cache does not hold it whole and intact.
     */
    public boolean read(String key, ByteBuffer dst, int length) {
        Queued q = queued.get(key);
        if (q != null && q.copyTo(dst, length)) {
            hits.incrementAndGet();
            return true;
        }
        Shard s = shard(key);
        if (!s.knows(key)) {
            misses.incrementAndGet();
            return false;
        }
        Path f = s.root.resolve(key);
        ByteBuffer into = dst.duplicate().limit(dst.position() + length);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            if (ch.size() != (long) length + TRAILER) {
                return damaged(s, key, f, "length " + ch.size() + ", expected " + (length + TRAILER));
            }
            long pos = readDirect(s, f, into);
            while (into.hasRemaining()) {
                int n = ch.read(into, pos);
                if (n < 0) {
                    return damaged(s, key, f, "short read");
                }
                pos += n;
            }
            ByteBuffer t = ByteBuffer.allocate(TRAILER).order(ByteOrder.BIG_ENDIAN);
            while (t.hasRemaining() && ch.read(t, pos + t.position()) >= 0) {
                // reads the trailer whole
            }
            CRC32C crc = new CRC32C();
            crc.update(dst.duplicate().limit(dst.position() + length));
            if (t.hasRemaining() || t.getInt(4) != MAGIC || t.getInt(0) != (int) crc.getValue()) {
                return damaged(s, key, f, "checksum mismatch");
            }
        } catch (NoSuchFileException e) {
            s.forget(key); // deleted behind our back
            misses.incrementAndGet();
            return false;
        } catch (IOException e) {
            failures.incrementAndGet();
            LOG.log(Level.FINE, "cache read of " + key + " failed", e);
            misses.incrementAndGet();
            return false;
        }
        s.touch(key, length + TRAILER);
        hits.incrementAndGet();
        return true;
    }

    /** Keeps a copy of block {@code key}: the remaining bytes of {@code data} (its position is not moved). */
    public void write(String key, ByteBuffer data) {
        Shard s = shard(key);
        int length = data.remaining();
        long size = (long) length + TRAILER;
        if (size > s.capacity || s.contains(key) || !s.makeRoom(size)) {
            return;
        }
        Path tmp = s.root.resolve(TMP).resolve(Long.toHexString(ThreadLocalRandom.current().nextLong()));
        Path f = s.root.resolve(key);
        try {
            CRC32C crc = new CRC32C();
            crc.update(data.duplicate());
            ByteBuffer t = ByteBuffer.allocate(TRAILER).order(ByteOrder.BIG_ENDIAN)
                    .putInt((int) crc.getValue()).putInt(MAGIC).flip();
            ByteBuffer d = data.duplicate();
            long pos = writeDirect(s, tmp, d);
            try (FileChannel ch = pos > 0 ? FileChannel.open(tmp, StandardOpenOption.WRITE)
                    : FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                if (pos < 0) {
                    // A plain open of the same file works where the direct one failed: the directory refuses it.
                    s.direct = false;
                    LOG.info("cache directory " + s.root + " refuses direct I/O; its blocks are written through"
                            + " the page cache");
                    pos = 0;
                }
                while (d.hasRemaining()) {
                    pos += ch.write(d, pos);
                }
                while (t.hasRemaining()) {
                    pos += ch.write(t, pos);
                }
            }
            // .tmp is in the same directory tree, so the rename is atomic; the block's folder is made only the
            // first time one of its blocks lands (not with a few stat calls on every write).
            try {
                Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (NoSuchFileException e) {
                Files.createDirectories(f.getParent());
                Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            s.add(key, size);
            writes.incrementAndGet();
        } catch (IOException e) {
            s.release(size);
            failures.incrementAndGet();
            LOG.log(Level.FINE, "cache write of " + key + " failed", e);
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // left for the next start's scan, which removes temporary files
            }
        }
    }

    /** Whether direct I/O can move {@code b}'s bytes: a directory that takes it, page-aligned native memory. */
    private static boolean direct(Shard s, ByteBuffer b) {
        return s.direct && b.isDirect() && b.remaining() >= DIRECT_IO_ALIGNMENT
                && b.alignmentOffset(b.position(), DIRECT_IO_ALIGNMENT) == 0;
    }

    /**
     * Reads the page-aligned head of block file {@code f} into {@code into} with O_DIRECT, past the page cache,
     * and moves {@code into}'s position past it; returns the bytes read (0 if {@code into}'s memory is not
     * aligned, the directory is written through the page cache or the direct open fails: the caller reads it
     * all through the page cache). Why: as for {@link #writeDirect}, the bytes land in this process's memory
     * cache, so a page-cache copy is a second cache of them and filling it costs a page allocation and a copy
     * per 4 KiB (perf of a cold read through the mount: a fifth of all samples in that copy). It opens the
     * file a second time: should the file be replaced in between (only ever by the same block's bytes), a mix
     * of two files fails the checksum and is dropped, never served.
     */
    private static long readDirect(Shard s, Path f, ByteBuffer into) {
        if (!direct(s, into)) {
            return 0;
        }
        int n = into.remaining() / DIRECT_IO_ALIGNMENT * DIRECT_IO_ALIGNMENT;
        ByteBuffer head = into.duplicate().limit(into.position() + n);
        long pos = 0;
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ,
                com.sun.nio.file.ExtendedOpenOption.DIRECT)) {
            // A count that is not a multiple of the alignment means the end of the file: the rest, if any, is
            // read through the page cache, where the length check decides.
            while (head.hasRemaining() && pos % DIRECT_IO_ALIGNMENT == 0) {
                int r = ch.read(head, pos);
                if (r <= 0) {
                    break;
                }
                pos += r;
            }
        } catch (IOException | UnsupportedOperationException e) {
            LOG.log(Level.FINE, "direct read of " + f + " failed; read through the page cache", e);
            return 0;
        }
        into.position(into.position() + (int) pos);
        return pos;
    }

    /**
     * Writes the page-aligned head of {@code d} into a new file {@code tmp} with O_DIRECT, past the page cache,
     * and moves {@code d}'s position past it; returns the bytes written: 0 if {@code d}'s memory is not aligned
     * or the directory is written through the page cache, -1 if the direct open failed (the caller's plain open
     * tells whether the directory refuses direct I/O). Why: cached blocks are read back through this process's
     * memory cache, so copies in the page cache are a second cache of the same bytes, and filling it costs a
     * page allocation per 4 KiB (on a VM whose free memory goes back to the host, most of the time a cache
     * write took: see docs/cache.md). The unaligned tail and the trailer go through the page cache: at most a
     * page and 8 bytes per block.
     */
    private static long writeDirect(Shard s, Path tmp, ByteBuffer d) throws IOException {
        if (!direct(s, d)) {
            return 0;
        }
        FileChannel ch;
        try {
            ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    com.sun.nio.file.ExtendedOpenOption.DIRECT);
        } catch (IOException | UnsupportedOperationException e) {
            Files.deleteIfExists(tmp);
            return -1;
        }
        int n = d.remaining() / DIRECT_IO_ALIGNMENT * DIRECT_IO_ALIGNMENT;
        ByteBuffer head = d.duplicate().limit(d.position() + n);
        try (ch) {
            long pos = 0;
            while (head.hasRemaining()) {
                pos += ch.write(head, pos);
            }
        }
        d.position(d.position() + n);
        return n;
    }

    /**
     * Drops the cached copy of a block (one the volume deleted, or an eviction asked for); returns the bytes
     * it took, 0 if it was not cached.
     */
    public long drop(String key) {
        Shard s = shard(key);
        long size = s.forget(key);
        if (size > 0) {
            delete(s.root.resolve(key));
        }
        return size;
    }

    /** Whether the cache holds block {@code key} (as far as its index knows; a read still checks it). */
    public boolean holds(String key) {
        return shard(key).knows(key);
    }

    public long hits() {
        return hits.get();
    }

    public long misses() {
        return misses.get();
    }

    /** Blocks found damaged (length or checksum) and dropped. */
    public long corrupt() {
        return corrupt.get();
    }

    public long evictions() {
        return evictions.get();
    }

    public long writes() {
        return writes.get();
    }

    /** Blocks their caller wrote into the cache itself because the writer's backlog was full. */
    public long behind() {
        return behind.get();
    }

    /** Cache reads or writes that failed with an I/O error (the block came from or went to the store). */
    public long failures() {
        return failures.get();
    }

    /** Bytes of cached blocks, trailers included. */
    public long usedBytes() {
        long n = 0;
        for (Shard s : shards) {
            n += s.used();
        }
        return n;
    }

    public long capacity() {
        long n = 0;
        for (Shard s : shards) {
            n += s.capacity;
        }
        return n;
    }

    public int blocks() {
        int n = 0;
        for (Shard s : shards) {
            n += s.count();
        }
        return n;
    }

    /** Whether the start-up scan has indexed every block on disk. */
    public boolean scanned() {
        for (Shard s : shards) {
            if (!s.scanned) {
                return false;
            }
        }
        return true;
    }

    /** Waits for the start-up scan (tests and the warm-up's report). */
    public void awaitScan() throws InterruptedException {
        scanner.join();
    }

    /** Waits until the blocks handed to {@link #writeLater} so far are written (a warm-up's end, tests). */
    public void awaitWrites() throws InterruptedException {
        try {
            writer.submit(() -> { }).get();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.RejectedExecutionException e) {
            // closed: nothing is waiting
        }
    }

    /** Takes {@code root}'s lock, writing this process's id into the file for the message of the next one. */
    private void lock(Path root) throws IOException {
        Path f = root.resolve(LOCK);
        Path real = root.toRealPath();
        if (!LOCKED_HERE.add(real)) {
            throw new IOException("the cache directory " + root + " is in use by another volume of this process");
        }
        FileChannel ch;
        java.nio.channels.FileLock l;
        try {
            ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            LOCKED_HERE.remove(real);
            throw e;
        }
        try {
            l = ch.tryLock();
        } catch (IOException e) {
            ch.close();
            LOCKED_HERE.remove(real);
            throw e;
        }
        if (l == null) {
            LOCKED_HERE.remove(real);
            String holder;
            try {
                holder = new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.US_ASCII).trim();
            } catch (IOException e) {
                holder = "";
            }
            ch.close();
            throw new IOException("the cache directory " + root + " is in use by another process"
                    + (holder.matches("[0-9]+") ? " (pid " + holder + ")" : "") + ": give each one its own --cache-dir");
        }
        locks.add(ch);
        lockedRoots.add(real);
        // Closed with the others (unlock) if this fails.
        ch.truncate(0);
        ch.write(java.nio.ByteBuffer.wrap((ProcessHandle.current().pid() + "\n")
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII)), 0);
    }

    private void unlock() {
        for (FileChannel ch : locks) {
            try {
                ch.close(); // releases the lock
            } catch (IOException e) {
                LOG.fine("closing a cache lock: " + e.getMessage());
            }
        }
        locks.clear();
        lockedRoots.forEach(LOCKED_HERE::remove);
        lockedRoots.clear();
    }

    /**
     * Takes no more blocks, writes those waiting (at most {@link #MAX_PENDING} bytes; their callers' buffers
     * are given back), then stops the threads.
     */
    @Override
    public void close() {
        closed = true;
        writer.shutdown();
        try {
            writer.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        scanner.interrupt();
        try {
            scanner.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        unlock();
    }

    private Shard shard(String key) {
        // String.hashCode's low bits follow the keys' last characters (block keys end alike): mix them first.
        int h = key.hashCode();
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        h ^= h >>> 16;
        return shards.get(Math.floorMod(h, shards.size()));
    }

    private boolean damaged(Shard s, String key, Path f, String why) {
        corrupt.incrementAndGet();
        misses.incrementAndGet();
        LOG.warning("cached block " + f + " is damaged (" + why + "): dropped, read from the store instead");
        s.forget(key);
        delete(f);
        return false;
    }

    private void evicted(Shard s, String key) {
        evictions.incrementAndGet();
        delete(s.root.resolve(key));
    }

    private static void delete(Path f) {
        try {
            Files.deleteIfExists(f);
        } catch (IOException e) {
            LOG.log(Level.FINE, "cannot delete cached block " + f, e);
        }
    }

    private void scanAll() {
        for (Shard s : shards) {
            if (closed) {
                return;
            }
            try {
                s.scan();
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.WARNING, "scan of cache " + s.root + " stopped: " + e.getMessage(), e);
            }
            s.scanned = true;
        }
    }

    /** One cache directory: its index and its share of the capacity. */
    private final class Shard {
        final Path root;
        final long capacity;
        final double freeSpaceRatio;
        final FileStore disk;
        /** Key → bytes on disk, least recently used first. */
        private final LinkedHashMap<String, Long> index = new LinkedHashMap<>(1024, 0.75f, true);
        /** Bytes indexed plus bytes reserved by writes in progress. */
        private long used;
        volatile boolean scanned;
        /** Whether blocks are written and read with O_DIRECT; off once the directory refuses it. */
        volatile boolean direct;

        Shard(Path root, long capacity, double freeSpaceRatio, FileStore disk) {
            this.root = root;
            this.capacity = capacity;
            this.freeSpaceRatio = freeSpaceRatio;
            this.disk = disk;
            long fsBlock;
            try {
                fsBlock = disk.getBlockSize();
            } catch (IOException | UnsupportedOperationException e) {
                fsBlock = Long.MAX_VALUE;
            }
            this.direct = fsBlock <= DIRECT_IO_ALIGNMENT; // the JDK refuses direct writes not so aligned
        }

        synchronized long used() {
            return used;
        }

        synchronized int count() {
            return index.size();
        }

        synchronized boolean contains(String key) {
            return index.containsKey(key);
        }

        /** Whether the key may be on disk: indexed, or, before the scan is done, a file is there. */
        boolean knows(String key) {
            synchronized (this) {
                if (index.containsKey(key)) {
                    return true;
                }
            }
            return !scanned && Files.isRegularFile(root.resolve(key));
        }

        /** A hit: the block moves to the most recently used end (and is indexed if the scan is not there yet). */
        synchronized void touch(String key, long size) {
            if (index.get(key) == null) {
                index.put(key, size);
                used += size;
            }
        }

        /** A finished write, whose bytes {@link #makeRoom} reserved. */
        synchronized void add(String key, long size) {
            if (index.putIfAbsent(key, size) != null) {
                used -= size; // written twice at once: counted once
            }
        }

        synchronized void release(long size) {
            used -= size;
        }

        /** Takes a block out of the index; returns the bytes it took, 0 if it was not there. */
        synchronized long forget(String key) {
            Long size = index.remove(key);
            if (size != null) {
                used -= size;
                return size;
            }
            return 0;
        }

        /**
         * Reserves {@code size} bytes, evicting least recently used blocks while the share or the disk's
         * free-space floor would be crossed; false if that cannot be done (nothing left to evict).
         */
        boolean makeRoom(long size) {
            List<String> victims = new ArrayList<>();
            boolean ok;
            synchronized (this) {
                long freeFloor = 0;
                long usable = Long.MAX_VALUE / 4; // unknown: never the limit, and no overflow below
                try {
                    freeFloor = (long) (disk.getTotalSpace() * freeSpaceRatio);
                    usable = disk.getUsableSpace();
                } catch (IOException e) {
                    // free space unknown: the share alone limits the cache
                }
                // Space evicted now is given back to the disk once the victims are deleted below.
                long freed = 0;
                Iterator<Map.Entry<String, Long>> it = index.entrySet().iterator();
                while ((used + size > capacity || usable + freed - size < freeFloor) && it.hasNext()) {
                    Map.Entry<String, Long> e = it.next();
                    victims.add(e.getKey());
                    used -= e.getValue();
                    freed += e.getValue();
                    it.remove();
                }
                ok = used + size <= capacity && usable + freed - size >= freeFloor;
                if (ok) {
                    used += size;
                }
            }
            for (String v : victims) {
                evicted(this, v);
            }
            return ok;
        }

        /** Indexes the files on disk, oldest first (so they are evicted first); removes temporary files. */
        void scan() throws IOException {
            try (Stream<Path> tmps = Files.list(root.resolve(TMP))) {
                tmps.forEach(DiskBlockCache::delete);
            }
            List<Object[]> found = new ArrayList<>();
            try (Stream<Path> files = Files.walk(root)) {
                Iterator<Path> it = files.iterator();
                while (it.hasNext() && !closed) {
                    Path p = it.next();
                    if (p.startsWith(root.resolve(TMP)) || p.equals(root.resolve(LOCK))) {
                        continue;
                    }
                    BasicFileAttributes a;
                    try {
                        a = Files.readAttributes(p, BasicFileAttributes.class);
                    } catch (NoSuchFileException gone) {
                        continue;
                    }
                    if (a.isRegularFile()) {
                        if (a.size() < TRAILER) {
                            delete(p);
                        } else {
                            found.add(new Object[] {root.relativize(p).toString().replace('\\', '/'), a.size(),
                                    a.lastModifiedTime().toMillis()});
                        }
                    }
                }
            }
            found.sort((x, y) -> Long.compare((Long) x[2], (Long) y[2]));
            List<String> over = new ArrayList<>();
            synchronized (this) {
                // Blocks read or written since the start are newer than any found here: they stay at the end.
                LinkedHashMap<String, Long> seen = new LinkedHashMap<>(index);
                index.clear();
                used -= seen.values().stream().mapToLong(Long::longValue).sum();
                for (Object[] f : found) {
                    if (!seen.containsKey((String) f[0])) {
                        index.put((String) f[0], (Long) f[1]);
                        used += (Long) f[1];
                    }
                }
                for (Map.Entry<String, Long> e : seen.entrySet()) {
                    index.put(e.getKey(), e.getValue());
                    used += e.getValue();
                }
                Iterator<Map.Entry<String, Long>> it = index.entrySet().iterator();
                while (used > capacity && it.hasNext()) {
                    Map.Entry<String, Long> e = it.next();
                    over.add(e.getKey());
                    used -= e.getValue();
                    it.remove();
                }
            }
            for (String k : over) {
                evicted(this, k);
            }
        }
    }
}
