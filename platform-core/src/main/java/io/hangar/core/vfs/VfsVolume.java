package io.hangar.core.vfs;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.hangar.core.cache.CacheGroup;
import io.hangar.core.cache.DiskBlockCache;
import io.hangar.core.layout.ChunkLayout;
import io.hangar.fs.Attr;
import io.hangar.fs.Caller;
import io.hangar.fs.DirEntry;
import io.hangar.fs.Entry;
import io.hangar.fs.Errno;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.fs.OpenFlags;
import io.hangar.fs.SetAttr;
import io.hangar.fs.StatFs;
import io.hangar.fs.XattrFlags;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.VolumeFormat;
import io.hangar.vfs.FileHandle;
import io.hangar.vfs.standalone.OpenVolume;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The VFS: a {@link io.hangar.vfs.Volume} over one metadata engine and one chunk store. Namespace calls go
 * straight to the engine; file data is cut into chunks, written as slices of blocks through
 * {@link FileWriter}s and read back through the {@link BlockReader}.
 */
public final class VfsVolume implements OpenVolume {
    private static final Logger LOG = Logger.getLogger(VfsVolume.class.getName());

    /**
     * The xattr that marks a frozen node ({@link #freeze}): the node is frozen iff the value is its own inode
     * number in decimal ASCII. {@code MetadataEngine.clone} copies xattrs, so a clone of a frozen tree carries
     * the attribute with the source's inode numbers and is therefore not frozen: a snapshot of a released
     * version is writable without a walk that removes the attribute from every copied node.
     */
    public static final String FROZEN_XATTR = "hangar.frozen";
    /** Xattr names reserved for the volume: not settable, removable, readable or listed through it. */
    static final String RESERVED_XATTR_PREFIX = "hangar.";
    /** Entries per readdir page of the freeze walk. */
    private static final int FREEZE_PAGE = 256;
    /** Nodes whose frozen state is remembered (positive answers until evicted, negative ones briefly). */
    private static final int FROZEN_CACHE_SIZE = 100_000;

    private final VolumeFormat format;
    private final MetadataEngine meta;
    private final StoreGate gate;
    private final VfsOptions options;
    private final DiskBlockCache disk;
    /** This process's membership of a cache group; null if none. */
    private final CacheGroup group;
    private final ExecutorService groupPool;
    private final ExecutorService warmPool;
    private final ChunkLayout layout;
    private final long session;
    private final BufferBudget budget;
    private final SliceIds ids;
    private final ExecutorService uploadPool;
    private final ExecutorService readPool;
    private final ExecutorService aheadPool;
    private final ReadAheadBudget aheadBudget;
    private final BlockPool pool;
    private final ExecutorService compactPool;
    private final ScheduledExecutorService background;
    private final BlockReader reader;
    private final Compactor compactor;
    private final SliceReaper reaper;
    private final VfsMetrics metrics;
    private final Map<Long, FileWriter> writers = new ConcurrentHashMap<>();
    /**
     * This client's open files: the engine is told of an inode's first open and last close here, so that a
     * file unlinked by any client keeps its data until the last close everywhere (POSIX; engines record
     * these without syncing them, since they die with the session anyway).
     */
    private final Map<Long, Integer> opens = new HashMap<>();
    private final Runnable onClose;
    private volatile StatFs usage;
    private volatile long usageAtNs;
    // Bytes written since usage was last read: keeps the capacity check honest between refreshes.
    private final AtomicLong writtenSinceUsage = new AtomicLong();
    private final AtomicLong releaseFailures = new AtomicLong();
    private volatile boolean closed;
    /**
     * inode -> frozen. Frozen is forever, so true is kept until evicted; false only for
     * {@link #FROZEN_RECHECK_MS}, the time another client's freeze may take to be seen here.
     */
    private final Cache<Long, Boolean> frozenCache = Caffeine.newBuilder()
            .maximumSize(FROZEN_CACHE_SIZE)
            .expireAfter(new Expiry<Long, Boolean>() {
                @Override
                public long expireAfterCreate(Long key, Boolean value, long currentTime) {
                    return value ? Long.MAX_VALUE : TimeUnit.MILLISECONDS.toNanos(FROZEN_RECHECK_MS);
                }

                @Override
                public long expireAfterUpdate(Long key, Boolean value, long currentTime, long currentDuration) {
                    return expireAfterCreate(key, value, currentTime);
                }

                @Override
                public long expireAfterRead(Long key, Boolean value, long currentTime, long currentDuration) {
                    return currentDuration;
                }
            })
            .build();

    public VfsVolume(VolumeFormat format, MetadataEngine meta, StoreGate gate, VfsOptions options, Runnable onClose)
            throws FsException {
        this(format, meta, gate, options, onClose, null);
    }

    /**
     * A volume whose meters ({@link VfsMetrics}, docs/metrics.md) are registered in {@code registry} (null:
     * counted into nothing) and removed from it when the volume closes.
     */
    public VfsVolume(VolumeFormat format, MetadataEngine meta, StoreGate gate, VfsOptions options, Runnable onClose,
            MeterRegistry registry) throws FsException {
        this.format = format;
        this.metrics = new VfsMetrics(registry, format.name());
        this.meta = MeteredMetadataEngine.wrap(meta, metrics);
        meta = this.meta; // everything below calls the engine through the meters
        this.gate = gate;
        gate.meter(metrics);
        this.options = options;
        this.onClose = onClose;
        this.layout = new ChunkLayout(format.name(), format.blockSize(), format.chunkSize());
        this.budget = new BufferBudget(Math.max(options.bufferSize(), 4L * format.blockSize()), metrics);
        this.ids = new SliceIds(meta);
        String tag = "hangar-" + format.name();
        this.uploadPool = Executors.newFixedThreadPool(options.uploadThreads(), threads(tag + "-upload"));
        this.readPool = Executors.newFixedThreadPool(options.readThreads(), threads(tag + "-read"));
        this.aheadPool = Executors.newFixedThreadPool(options.readThreads(), threads(tag + "-read-ahead"));
        this.aheadBudget = new ReadAheadBudget(budget, metrics);
        this.compactPool = Executors.newSingleThreadExecutor(threads(tag + "-compact"));
        this.background = Executors.newSingleThreadScheduledExecutor(threads(tag + "-housekeeping"));
        this.compactor = new Compactor(compactPool, meta, gate, layout, ids, options.compactThreshold(), metrics);
        // Freed block memory is kept for reuse up to what the buffers and the cache may hold at once.
        this.pool = new BlockPool(format.blockSize(), budget.total() + options.cacheSize());
        this.disk = diskCache(format, options);
        this.reader = new BlockReader(meta, gate, layout, pool, readPool, aheadPool, options.cacheSize(), compactor,
                options.compactThreshold(), metrics, disk, options.cacheWrites());
        if (disk != null) {
            diskMeters(disk);
        }
        compactor.bind(reader);
        this.warmPool = Executors.newFixedThreadPool(BlockReader.WARM_IN_FLIGHT, threads(tag + "-warmup"));
        reader.bindWarmPool(warmPool);
        this.reaper = new SliceReaper(this.meta, gate, layout, metrics, disk);
        metrics.gauge("hangar_vfs_buffer_used", "bytes", "write-buffer memory in use (buffers, uploads, read-ahead)",
                budget, BufferBudget::used);
        metrics.gauge("hangar_vfs_buffer_limit", "bytes", "write-buffer memory (bufferSize)", budget,
                BufferBudget::total);
        metrics.gauge("hangar_vfs_block_memory", "bytes",
                "native memory of block buffers: in use (write buffers, cache, read-ahead, reads) and kept for reuse",
                pool, BlockPool::heldBytes);
        metrics.gauge("hangar_vfs_readahead_held", "bytes", "bytes read-ahead holds, fetched or in flight",
                aheadBudget, ReadAheadBudget::held);
        metrics.gauge("hangar_used_space", "bytes", "bytes of file data the volume holds (as statfs)", this,
                v -> v.usageGauge().usedBytes());
        metrics.gauge("hangar_used_inodes", null, "files and directories the volume holds", this,
                v -> v.usageGauge().usedInodes());
        this.group = cacheGroup(layout, format, options);
        this.groupPool = group == null ? null
                : Executors.newFixedThreadPool(CacheGroup.SERVER_THREADS, threads(tag + "-group-load"));
        this.session = meta.openSession(group == null ? describeClient() : describeClient() + " " + group.sessionInfo());
        if (group != null) {
            reader.bindGroup(group, groupPool);
            groupMeters(group);
            group.start(meta, reader);
        }
        background.scheduleWithFixedDelay(this::heartbeat, 10, 10, TimeUnit.SECONDS);
        background.scheduleWithFixedDelay(this::reap, 1, 1, TimeUnit.SECONDS);
        background.scheduleWithFixedDelay(this::cleanStaleSessions, 30, 60, TimeUnit.SECONDS);
    }

    private static ThreadFactory threads(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    private static String describeClient() {
        return "pid=" + ProcessHandle.current().pid() + " host=" + System.getenv().getOrDefault("HOSTNAME", "?");
    }

    // ---- volume ----

    @Override
    public String name() {
        return format.name();
    }

    @Override
    public VolumeFormat format() {
        return format;
    }

    @Override
    public boolean available() {
        return !closed && gate.available();
    }

    @Override
    public String state() {
        if (closed) {
            return "closed";
        }
        long lost = releaseFailures.get();
        return lost == 0 ? gate.state()
                : gate.state() + "; " + lost + (lost == 1 ? " commit" : " commits") + " failed at release";
    }

    /**
     * Handles whose last commit, at release, failed: the frontend may have had nobody to tell (FUSE drops the
     * result of a release), so the data written since the last flush or fsync is lost. Also logged.
     */
    public long releaseFailures() {
        return releaseFailures.get();
    }

    /** The chunk-store gate, for the component that attaches and detaches stores as they come and go. */
    public StoreGate gate() {
        return gate;
    }

    // ---- namespace ----

    @Override
    public Entry lookup(long parent, String name) throws FsException {
        return withPendingLength(meta.lookup(parent, name));
    }

    @Override
    public Entry resolve(String path) throws FsException {
        Entry e = new Entry(ROOT, "/", meta.getattr(ROOT));
        for (String part : path.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (!e.attr().isDirectory()) {
                throw new FsException(Errno.ENOTDIR, path + ": " + e.name() + " is not a directory");
            }
            e = meta.lookup(e.inode(), part);
        }
        return withPendingLength(e);
    }

    /**
     * Entries resolved by name: the inode is known only after the lookup, so a commit that lands between the
     * lookup and reading the writer's pending end is caught by reading the attributes again.
     */
    private Entry withPendingLength(Entry e) throws FsException {
        if (!writers.containsKey(e.inode())) {
            return e;
        }
        return new Entry(e.parent(), e.name(), getattr(e.inode()));
    }

    private static Attr withPending(Attr a, long pending) {
        if (pending <= a.length()) {
            return a;
        }
        return new Attr(a.inode(), a.type(), a.mode(), a.uid(), a.gid(), a.nlink(), pending, a.atimeNs(),
                a.mtimeNs(), a.ctimeNs(), a.rdev(), a.parent());
    }

    /** The end of writes not yet committed, or -1; read before the engine so no commit falls in between. */
    private long pendingEnd(long inode) {
        FileWriter w = writers.get(inode);
        return w == null ? -1 : w.pendingEnd();
    }

    @Override
    public Attr getattr(long inode) throws FsException {
        long pending = pendingEnd(inode);
        return withPending(meta.getattr(inode), pending);
    }

    @Override
    public Attr setattr(Caller caller, long inode, SetAttr change) throws FsException {
        Attr a = meta.getattr(inode);
        if (changes(change)) {
            refuseIfFrozen(inode, "inode " + inode);
        }
        checkSetattr(caller, a, change);
        if (change.size() != null) {
            if (a.type() != FileType.FILE) {
                throw new FsException(a.isDirectory() ? Errno.EISDIR : Errno.EINVAL, "truncate of a non-file");
            }
            truncate(inode, change.size());
        }
        SetAttr rest = change.withoutSize();
        if (rest.mode() != null || rest.uid() != null || rest.gid() != null || rest.atimeNs() != null
                || rest.mtimeNs() != null || rest.ctimeNs() != null) {
            // The length includes buffered writes, as getattr's does: the kernel caches what it is told.
            long pending = pendingEnd(inode);
            return withPending(meta.setattr(inode, rest), pending);
        }
        return getattr(inode);
    }

    private static boolean changes(SetAttr s) {
        return s.mode() != null || s.uid() != null || s.gid() != null || s.size() != null || s.atimeNs() != null
                || s.mtimeNs() != null || s.ctimeNs() != null;
    }

    /** POSIX ownership rules for chmod/chown/utimens; read/write permission checks are the frontend's. */
    private static void checkSetattr(Caller c, Attr a, SetAttr s) throws FsException {
        if (c.isRoot()) {
            return;
        }
        boolean owner = c.uid() == a.uid();
        if (s.mode() != null && !owner) {
            throw new FsException(Errno.EPERM, "only the owner may change the mode");
        }
        if (s.uid() != null && s.uid() != a.uid()) {
            throw new FsException(Errno.EPERM, "only root may change the owner");
        }
        if (s.gid() != null && s.gid() != a.gid() && (!owner || !c.inGroup(s.gid()))) {
            throw new FsException(Errno.EPERM, "owner may only change the group to one of its own");
        }
        boolean explicitTime = (s.atimeNs() != null && s.atimeNs() != SetAttr.NOW)
                || (s.mtimeNs() != null && s.mtimeNs() != SetAttr.NOW);
        if (explicitTime && !owner) {
            throw new FsException(Errno.EPERM, "only the owner may set explicit times");
        }
    }

    private void truncate(long inode, long size) throws FsException {
        if (size < 0) {
            throw new FsException(Errno.EINVAL, "negative size");
        }
        if (size > MetadataEngine.MAX_FILE_SIZE) {
            throw new FsException(Errno.EFBIG, "size " + size + " exceeds the largest file ("
                    + MetadataEngine.MAX_FILE_SIZE + " bytes)");
        }
        FileWriter w = writers.get(inode);
        if (w != null) {
            w.flush();
        }
        meta.truncate(inode, size);
        reader.invalidate(inode);
    }

    @Override
    public Entry mknod(Caller caller, long parent, String name, FileType type, int mode, int rdev)
            throws FsException {
        refuseIfFrozen(parent, "directory " + parent);
        return meta.mknod(parent, name, type, mode & 07777, caller.uid(), groupFor(caller, parent), rdev, null);
    }

    @Override
    public Entry mkdir(Caller caller, long parent, String name, int mode) throws FsException {
        refuseIfFrozen(parent, "directory " + parent);
        int gid = groupFor(caller, parent);
        Attr p = meta.getattr(parent);
        // A setgid directory passes its group and the setgid bit on to subdirectories (BSD semantics).
        int m = mode & 07777;
        if ((p.mode() & 02000) != 0) {
            m |= 02000;
        }
        return meta.mknod(parent, name, FileType.DIRECTORY, m, caller.uid(), gid, 0, null);
    }

    private int groupFor(Caller caller, long parent) throws FsException {
        Attr p = meta.getattr(parent);
        return (p.mode() & 02000) != 0 ? p.gid() : caller.gid();
    }

    @Override
    public Entry symlink(Caller caller, long parent, String name, String target) throws FsException {
        if (target.isEmpty() || target.length() > 4096) {
            throw new FsException(target.isEmpty() ? Errno.ENOENT : Errno.ENAMETOOLONG, "bad symlink target");
        }
        refuseIfFrozen(parent, "directory " + parent);
        return meta.mknod(parent, name, FileType.SYMLINK, 0777, caller.uid(), groupFor(caller, parent), 0, target);
    }

    @Override
    public String readlink(long inode) throws FsException {
        return meta.readlink(inode);
    }

    @Override
    public void unlink(Caller caller, long parent, String name) throws FsException {
        refuseIfFrozen(parent, "directory " + parent);
        refuseIfFrozen(meta.lookup(parent, name).inode(), name);
        meta.unlink(parent, name);
    }

    @Override
    public void rmdir(Caller caller, long parent, String name) throws FsException {
        refuseIfFrozen(parent, "directory " + parent);
        refuseIfFrozen(meta.lookup(parent, name).inode(), name);
        meta.rmdir(parent, name);
    }

    @Override
    public void rename(Caller caller, long srcParent, String srcName, long dstParent, String dstName, int flags)
            throws FsException {
        refuseIfFrozen(srcParent, "directory " + srcParent);
        refuseIfFrozen(dstParent, "directory " + dstParent);
        refuseIfFrozen(meta.lookup(srcParent, srcName).inode(), srcName);
        Entry replaced = lookupOrNull(dstParent, dstName);
        if (replaced != null && frozenUnlessGone(replaced.inode())) {
            throw new FsException(Errno.EPERM, dstName + " is part of a released (frozen) version");
        }
        meta.rename(srcParent, srcName, dstParent, dstName, flags);
    }

    @Override
    public Entry link(Caller caller, long inode, long newParent, String newName) throws FsException {
        refuseIfFrozen(inode, "inode " + inode);
        refuseIfFrozen(newParent, "directory " + newParent);
        return meta.link(inode, newParent, newName);
    }

    @Override
    public List<DirEntry> readdir(long inode, String after, int limit, boolean withAttributes) throws FsException {
        List<DirEntry> list = meta.readdir(inode, after, limit, withAttributes);
        if (!withAttributes || writers.isEmpty()) {
            return list;
        }
        List<DirEntry> out = new ArrayList<>(list.size());
        for (DirEntry d : list) {
            out.add(d.attr() == null || !writers.containsKey(d.inode()) ? d
                    : new DirEntry(d.name(), d.inode(), d.type(), getattr(d.inode())));
        }
        return out;
    }

    @Override
    public byte[] getxattr(long inode, String name) throws FsException {
        if (reserved(name)) {
            meta.getattr(inode); // ENOENT first, as the engine would
            throw new FsException(Errno.ENODATA, "no attribute " + name + " on inode " + inode);
        }
        return meta.getxattr(inode, name);
    }

    @Override
    public void setxattr(Caller caller, long inode, String name, byte[] value, int flags) throws FsException {
        if ((flags & XattrFlags.KEEP_CTIME) != 0) {
            // The runtime's own flag: a caller must not hide a change from ctime.
            throw new FsException(Errno.EINVAL, "bad setxattr flags " + flags);
        }
        refuseReserved(name);
        refuseIfFrozen(inode, "inode " + inode);
        meta.setxattr(inode, name, value, flags);
    }

    @Override
    public List<String> listxattr(long inode) throws FsException {
        List<String> names = meta.listxattr(inode);
        if (names.stream().noneMatch(VfsVolume::reserved)) {
            return names;
        }
        List<String> out = new ArrayList<>(names.size());
        for (String n : names) {
            if (!reserved(n)) {
                out.add(n);
            }
        }
        return out;
    }

    @Override
    public void removexattr(Caller caller, long inode, String name) throws FsException {
        refuseReserved(name);
        refuseIfFrozen(inode, "inode " + inode);
        meta.removexattr(inode, name);
    }

    private static boolean reserved(String name) {
        return name != null && name.startsWith(RESERVED_XATTR_PREFIX);
    }

    private static void refuseReserved(String name) throws FsException {
        if (reserved(name)) {
            throw new FsException(Errno.EPERM, "xattr names starting with " + RESERVED_XATTR_PREFIX
                    + " are reserved: " + name);
        }
    }

    // ---- frozen trees ----

    @Override
    public void freeze(Caller caller, long inode) throws FsException {
        if (!caller.isRoot()) {
            throw new FsException(Errno.EPERM, "only root may freeze a tree");
        }
        checkOpen();
        Attr top = meta.getattr(inode);
        freezeNode(inode);
        if (!top.isDirectory()) {
            return;
        }
        // Depth first, top down (a directory is frozen before what is below it, so nothing new can appear in
        // a directory the walk has passed): one frame per level, holding the directory and the name the walk
        // resumes after; a page is read again after each descent, so memory is bounded by the depth of the
        // tree times one page, not by the size of a directory, and the walk costs O(nodes) engine calls.
        java.util.ArrayDeque<FreezeFrame> stack = new java.util.ArrayDeque<>();
        stack.push(new FreezeFrame(inode));
        while (!stack.isEmpty()) {
            FreezeFrame f = stack.peek();
            List<DirEntry> page = meta.readdir(f.dir, f.after, FREEZE_PAGE, false);
            boolean descended = false;
            for (DirEntry d : page) {
                f.after = d.name();
                freezeNode(d.inode());
                if (d.type() == FileType.DIRECTORY) {
                    stack.push(new FreezeFrame(d.inode()));
                    descended = true;
                    break;
                }
            }
            if (!descended && page.size() < FREEZE_PAGE) {
                stack.pop();
            }
        }
    }

    @Override
    public void purge(Caller caller, long parent, String name) throws FsException {
        if (!caller.isRoot()) {
            throw new FsException(Errno.EPERM, "only root may purge a tree");
        }
        checkOpen();
        refuseIfFrozen(parent, "directory " + parent);
        Entry top = meta.lookup(parent, name);
        if (!top.attr().isDirectory()) {
            meta.unlink(parent, name);
            return;
        }
        // Depth first, bottom up: a directory goes once it is empty. Entries are removed as they are met, so
        // every page is read from the start; the stack holds one directory per level.
        java.util.ArrayDeque<long[]> stack = new java.util.ArrayDeque<>();
        java.util.ArrayDeque<String> names = new java.util.ArrayDeque<>();
        stack.push(new long[] {parent, top.attr().inode()});
        names.push(name);
        while (!stack.isEmpty()) {
            long dir = stack.peek()[1];
            List<DirEntry> page = meta.readdir(dir, null, FREEZE_PAGE, false);
            boolean descended = false;
            for (DirEntry d : page) {
                if (d.type() == FileType.DIRECTORY) {
                    stack.push(new long[] {dir, d.inode()});
                    names.push(d.name());
                    descended = true;
                    break;
                }
                frozenCache.invalidate(d.inode());
                meta.unlink(dir, d.name());
            }
            if (!descended && page.size() < FREEZE_PAGE) {
                long[] done = stack.pop();
                meta.rmdir(done[0], names.pop());
                frozenCache.invalidate(done[1]);
            }
        }
    }

    /** A directory of the freeze walk and the name it resumes after (null: from the start). */
    private static final class FreezeFrame {
        final long dir;
        String after;

        FreezeFrame(long dir) {
            this.dir = dir;
        }
    }

    private void freezeNode(long inode) throws FsException {
        // This volume's buffered writes of the file land first (after the freeze they would be refused).
        FileWriter w = writers.get(inode);
        if (w != null) {
            w.flush();
        }
        if (!frozenNow(inode)) {
            // The freeze does not change the file, so it keeps ctime: a ctime recorded at upload (the
            // repository's proof that an upload's MD5 still holds) stays valid, and submit need not re-read.
            byte[] v = Long.toString(inode).getBytes(StandardCharsets.US_ASCII);
            try {
                meta.setxattr(inode, FROZEN_XATTR, v, XattrFlags.KEEP_CTIME);
            } catch (FsException e) {
                if (e.errno() != Errno.EINVAL) {
                    throw e;
                }
                // An engine built before the flag: the freeze holds all the same, it only bumps ctime.
                meta.setxattr(inode, FROZEN_XATTR, v, 0);
            }
        }
        frozenCache.put(inode, Boolean.TRUE);
    }

    /** The members of this volume's cache group that own blocks, as last read; -1 without a group. */
    public int cacheGroupOwners() {
        return group == null ? -1 : group.ring().size();
    }

    @Override
    public io.hangar.vfs.CacheState cacheState(long inode) throws FsException {
        long[] s = reader.cacheState(regularFile(inode));
        return new CacheCounts(s[0], s[1], s[2], s[3]);
    }

    @Override
    public long warm(long inode) throws FsException {
        regularFile(inode);
        FileWriter w = writers.get(inode);
        if (w != null) {
            w.flush(); // this volume's buffered writes are part of the file to warm
        }
        return reader.warm(inode);
    }

    @Override
    public long evict(long inode) throws FsException {
        return reader.evict(regularFile(inode));
    }

    /** {@code inode}, if it is a regular file: EISDIR for a directory, EINVAL for anything else. */
    private long regularFile(long inode) throws FsException {
        checkOpen();
        Attr a = meta.getattr(inode);
        if (a.isDirectory()) {
            throw new FsException(Errno.EISDIR, "is a directory: inode " + inode);
        }
        if (a.type() != FileType.FILE) {
            throw new FsException(Errno.EINVAL, "not a regular file: inode " + inode);
        }
        return inode;
    }

    private record CacheCounts(long storedBytes, long diskBytes, long memoryBytes, long groupBytes)
            implements io.hangar.vfs.CacheState {
    }

    @Override
    public boolean soleClient() throws FsException {
        checkOpen();
        return !meta.otherSessions(session);
    }

    @Override
    public boolean frozen(long inode) throws FsException {
        Boolean known = frozenCache.getIfPresent(inode);
        if (known != null) {
            return known;
        }
        boolean f = frozenNow(inode);
        frozenCache.put(inode, f);
        return f;
    }

    /** The engine's answer, uncached. */
    private boolean frozenNow(long inode) throws FsException {
        byte[] v;
        try {
            v = meta.getxattr(inode, FROZEN_XATTR);
        } catch (FsException e) {
            if (e.errno() == Errno.ENODATA) {
                return false;
            }
            throw e;
        }
        return Long.toString(inode).equals(new String(v, StandardCharsets.US_ASCII));
    }

    private void refuseIfFrozen(long inode, String what) throws FsException {
        if (frozen(inode)) {
            throw new FsException(Errno.EPERM, what + " is part of a released (frozen) version");
        }
    }

    /**
     * Whether the node a rename would replace is frozen. Another client may have replaced or removed it since
     * the lookup: a node that is gone is not frozen, and the engine's rename replaces whatever the name holds
     * then (two racing renames onto one name both succeed, the last one wins, as POSIX has it).
     */
    private boolean frozenUnlessGone(long inode) throws FsException {
        try {
            return frozen(inode);
        } catch (FsException e) {
            if (e.errno() == Errno.ENOENT) {
                return false;
            }
            throw e;
        }
    }

    private Entry lookupOrNull(long parent, String name) throws FsException {
        try {
            return meta.lookup(parent, name);
        } catch (FsException e) {
            if (e.errno() == Errno.ENOENT) {
                return null;
            }
            throw e;
        }
    }

    @Override
    public io.hangar.fsck.VolumeCheck check() {
        return new io.hangar.core.fsck.VolumeChecker(format, meta, gate::current, java.time.Clock.systemUTC(), () -> { });
    }

    /** The usage, read from the engine at most once a second (for the capacity check and the gauges). */
    private StatFs recentUsage() throws FsException {
        StatFs s = usage;
        return s != null && System.nanoTime() - usageAtNs <= 1_000_000_000L ? s : statfs();
    }

    /** The usage the gauges show, whatever the scrape rate; the last figure while the engine is away. */
    private StatFs usageGauge() {
        StatFs s = usage;
        if (!closed) {
            try {
                s = recentUsage();
            } catch (FsException e) {
                // The engine is away: the last figure (or none) until it returns.
            }
        }
        return s != null ? s : new StatFs(0, 0, 0, 0);
    }

    @Override
    public StatFs statfs() throws FsException {
        StatFs s = meta.statfs();
        usage = s;
        usageAtNs = System.nanoTime();
        writtenSinceUsage.set(0);
        return s;
    }

    @Override
    public Entry clone(Caller caller, long srcInode, long dstParent, String dstName) throws FsException {
        refuseIfFrozen(dstParent, "directory " + dstParent);
        flushAll();
        return meta.clone(srcInode, dstParent, dstName, caller.uid(), caller.gid());
    }

    @Override
    public long copyRange(Caller caller, long srcInode, long srcOff, long dstInode, long dstOff, long len)
            throws FsException {
        checkOpen();
        refuseIfFrozen(dstInode, "inode " + dstInode);
        flush(srcInode, null);
        flush(dstInode, null);
        return new FileRanges(meta, layout, reader, compactor).copy(srcInode, srcOff, dstInode, dstOff, len);
    }

    @Override
    public Attr zeroRange(Caller caller, long inode, long offset, long length, boolean keepSize)
            throws FsException {
        checkOpen();
        FileRanges.checkRange(offset, length);
        refuseIfFrozen(inode, "inode " + inode);
        flush(inode, null);
        return new FileRanges(meta, layout, reader, compactor).zero(inode, offset, length, keepSize);
    }

    // ---- files ----

    @Override
    public FileHandle create(Caller caller, long parent, String name, int mode, int flags) throws FsException {
        if (frozen(parent)) {
            // Opening a file that is there makes nothing new (open refuses write access to it).
            Entry there = (flags & OpenFlags.EXCL) != 0 ? null : lookupOrNull(parent, name);
            if (there == null) {
                throw new FsException(Errno.EPERM, "directory " + parent + " is part of a released (frozen) version");
            }
            return open(caller, there.inode(), flags);
        }
        Entry e;
        try {
            e = meta.createFile(parent, name, mode & 07777, caller.uid(), groupFor(caller, parent));
        } catch (FsException ex) {
            if (ex.errno() != Errno.EEXIST || (flags & OpenFlags.EXCL) != 0) {
                throw ex;
            }
            e = meta.lookup(parent, name);
            return open(caller, e.inode(), flags);
        }
        // A file this volume has just made is not frozen: its open need not ask the engine.
        frozenCache.put(e.inode(), false);
        // The engine's answer carries the new file's attributes: the open need not read them again.
        int openFlags = flags & ~OpenFlags.TRUNC;
        VfsHandle h = e.attr() != null ? open(e.inode(), openFlags, e.attr()) : open(caller, e.inode(), openFlags);
        // The engine may not have flushed the creation yet (createFile): the handle's flush, fsync or close
        // syncs it (syncCreated), so a closed file is durable as if it had been made by mknod.
        h.created();
        return h;
    }

    /** Makes a file made by {@link #create} durable: the engine's sync, cheap once the data's commit has. */
    void syncCreated() throws FsException {
        meta.sync();
    }

    @Override
    public void syncDirectory(long inode) throws FsException {
        checkOpen();
        if (!meta.getattr(inode).isDirectory()) {
            throw new FsException(Errno.ENOTDIR, "not a directory: inode " + inode);
        }
        meta.sync();
    }

    @Override
    public VfsHandle open(Caller caller, long inode, int flags) throws FsException {
        checkOpen();
        return open(inode, flags, meta.getattr(inode));
    }

    /** Opens an inode whose attributes {@code a} were just read from the engine. */
    private VfsHandle open(long inode, int flags, Attr a) throws FsException {
        checkOpen();
        if (a.isDirectory() && OpenFlags.writable(flags)) {
            throw new FsException(Errno.EISDIR, "cannot open a directory for writing");
        }
        if (a.type() != FileType.FILE && !a.isDirectory()) {
            throw new FsException(Errno.EINVAL, "not a regular file: inode " + inode);
        }
        if (a.isDirectory()) {
            throw new FsException(Errno.EISDIR, "is a directory: inode " + inode);
        }
        boolean writable = OpenFlags.writable(flags);
        if (writable || (flags & OpenFlags.TRUNC) != 0) {
            refuseIfFrozen(inode, "inode " + inode);
        }
        if (writable && (flags & OpenFlags.TRUNC) != 0) {
            truncate(inode, 0);
        }
        registerOpen(inode);
        reader.invalidate(inode);
        FileWriter w = null;
        if (writable) {
            // Joining a writer and leaving it (release) happen under the map's lock for the inode: a handle
            // never holds a writer the map no longer has, so one inode never has two writers whose commits
            // could land out of order (FUSE releases a handle asynchronously, racing the next open).
            w = writers.compute(inode, (k, old) -> {
                FileWriter x = old != null ? old
                        : new FileWriter(inode, meta, layout, ids, this::upload, budget, compactor, reader,
                                options.compactThreshold(), pool, metrics, this::refuseWriteIfFrozen);
                x.retain();
                return x;
            });
        }
        return new VfsHandle(this, inode, flags, w, new ReadAhead(options.readAhead(), layout.blockSize(),
                aheadBudget));
    }

    private void registerOpen(long inode) throws FsException {
        synchronized (opens) {
            int n = opens.getOrDefault(inode, 0);
            if (n == 0) {
                meta.open(session, inode);
            }
            opens.put(inode, n + 1);
        }
    }

    private void unregisterOpen(long inode) throws FsException {
        synchronized (opens) {
            int n = opens.getOrDefault(inode, 0) - 1;
            if (n > 0) {
                opens.put(inode, n);
                return;
            }
            opens.remove(inode);
        }
        meta.release(session, inode);
    }

    /** Commits what is still pending (normally nothing: the frontend flushed) and releases the handle. */
    void release(VfsHandle h, FileWriter w) throws FsException {
        try {
            if (w != null) {
                try {
                    w.flush();
                } catch (FsException e) {
                    releaseFailures.incrementAndGet();
                    LOG.log(Level.WARNING, "volume " + name() + ": inode " + h.inode() + ": commit at release "
                            + "failed, writes since the last flush or fsync are lost: " + e.getMessage());
                    throw e;
                } finally {
                    writers.computeIfPresent(h.inode(), (k, current) -> current == w && w.releaseUser() ? null
                            : current);
                }
            }
        } finally {
            unregisterOpen(h.inode());
        }
    }

    /** Commits the pending writes of an inode: the handle's writer, or the inode's if the handle has none. */
    void flush(long inode, FileWriter own) throws FsException {
        FileWriter w = own != null ? own : writers.get(inode);
        if (w != null) {
            w.flush();
        }
    }

    /** Reads into dst's remaining bytes (up to the end of the file); dst's position moves past them. */
    int read(long inode, long position, ByteBuffer dst, ReadAhead ahead) throws FsException {
        int len = dst.remaining();
        checkOpen();
        FileWriter w = writers.get(inode);
        if (w != null && w.dirty()) {
            w.flush();
        }
        long length = reader.length(inode);
        if (position >= length || len == 0) {
            return 0;
        }
        int n = (int) Math.min(len, length - position);
        // Ask for the blocks ahead before waiting for this one, so a cold sequential read overlaps them.
        reader.startDemand(inode, position, n, ahead);
        readAhead(inode, position, n, length, ahead);
        ByteBuffer part = dst.duplicate();
        part.limit(part.position() + n);
        reader.read(inode, position, part, ahead);
        dst.position(dst.position() + n);
        return n;
    }

    /** See {@link FileHandle#readView}. */
    int readView(long inode, long position, int len, ReadAhead ahead, FileHandle.ViewReader sink)
            throws FsException {
        checkOpen();
        FileWriter w = writers.get(inode);
        if (w != null && w.dirty()) {
            return -1; // read() commits them first
        }
        long length = reader.length(inode);
        if (position >= length || len == 0) {
            return 0;
        }
        int n = (int) Math.min(len, length - position);
        // The read is noted in its stream (and read-ahead started) only once it is known to be one block's:
        // otherwise the caller reads it again through read(), which notes it.
        return reader.view(inode, position, n, ahead, () -> readAhead(inode, position, n, length, ahead), sink)
                ? n : -1;
    }

    /** Notes a read of [position, position+n) in its stream and starts the stream's read-ahead if it is due. */
    private void readAhead(long inode, long position, int n, long length, ReadAhead ahead) {
        long[] window = ahead.advance(position, n, length);
        if (window != null) {
            ahead.sweep();
            reader.prefetch(inode, window[0], window[1], ahead, aheadBudget);
        }
    }

    /** Writes src's remaining bytes; src's position moves past them. */
    long write(long inode, FileWriter w, boolean append, long position, ByteBuffer src) throws FsException {
        checkOpen();
        refuseWriteIfFrozen(inode);
        int len = src.remaining();
        if (append) {
            // The end of the file and the write at it must not be split by another append.
            synchronized (w) {
                long at = Math.max(meta.getattr(inode).length(), w.pendingEnd());
                checkEnd(at, len);
                if (len > 0) {
                    checkSpace(len);
                    w.write(at, src);
                }
                return at;
            }
        }
        checkEnd(position, len);
        if (len > 0) {
            checkSpace(len);
            w.write(position, src);
        }
        return position;
    }

    /** Refuses a write or a commit of buffered writes to a frozen file (also through an older handle). */
    private void refuseWriteIfFrozen(long inode) throws FsException {
        if (frozen(inode)) {
            throw new FsException(Errno.EPERM, "inode " + inode + " is part of a released (frozen) version: "
                    + "write refused");
        }
    }

    /** EFBIG for a write whose end passes the largest file; written so that no sum can overflow. */
    private static void checkEnd(long position, int len) throws FsException {
        if (len > MetadataEngine.MAX_FILE_SIZE - position) {
            throw new FsException(Errno.EFBIG, "write of " + len + " bytes at " + position
                    + " ends past the largest file (" + MetadataEngine.MAX_FILE_SIZE + " bytes)");
        }
    }

    private void checkSpace(int len) throws FsException {
        if (format.capacityBytes() <= 0) {
            return;
        }
        StatFs s = recentUsage();
        if (s.usedBytes() + writtenSinceUsage.addAndGet(len) > format.capacityBytes()) {
            throw new FsException(Errno.ENOSPC, "volume " + name() + " is full (" + format.capacityBytes()
                    + " bytes)");
        }
    }

    /** Stores a block from its native buffer; the upload owns the buffer's reference and drops it at the end. */
    private CompletableFuture<Void> upload(String key, BlockBuffer data, int length, int budgetBytes) {
        try {
            return CompletableFuture.runAsync(() -> {
                try {
                    gate.call("write " + key, s -> {
                        s.put(key, data.view(length));
                        return null;
                    });
                    reader.cacheWritten(key, data, length);
                } catch (FsException e) {
                    throw new CompletionException(e);
                } finally {
                    data.release();
                    budget.release(budgetBytes);
                }
            }, uploadPool);
        } catch (RuntimeException e) {
            data.release();
            budget.release(budgetBytes);
            throw e;
        }
    }

    /** Commits every buffered write of this volume. */
    public void flushAll() throws FsException {
        FsException first = null;
        for (FileWriter w : writers.values()) {
            try {
                w.flush();
            } catch (FsException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** Compacts one chunk now, whatever its fragmentation (for tests and the gc command). */
    public boolean compactNow(long inode, int chunk) throws FsException {
        return compactor.compact(inode, chunk, true);
    }

    /**
     * Deletes unreferenced blocks now, without the grace the background pass gives readers that may still
     * hold an older slice list (they re-read it when they meet a deleted block); returns how many slices were
     * freed. For tests and tools.
     */
    public int reapNow() throws FsException {
        return reap(0);
    }

    private int reap(long graceNanos) throws FsException {
        int total = 0;
        int n;
        while ((n = reaper.reapOnce(256, graceNanos)) > 0) {
            total += n;
        }
        return total;
    }

    private void checkOpen() throws FsException {
        if (closed) {
            throw new FsException(Errno.EIO, "volume " + name() + " is closed");
        }
    }

    private void heartbeat() {
        try {
            meta.heartbeat(session);
        } catch (FsException e) {
            LOG.log(Level.WARNING, "volume " + name() + ": session heartbeat failed: " + e.getMessage());
        }
    }

    private void reap() {
        try {
            reap(SliceReaper.GRACE_NANOS);
        } catch (FsException e) {
            LOG.log(Level.FINE, "volume " + name() + ": block deletion deferred: " + e.getMessage());
        }
    }

    private void cleanStaleSessions() {
        try {
            meta.cleanStaleSessions(options.sessionTimeoutMs());
        } catch (FsException e) {
            LOG.log(Level.FINE, "volume " + name() + ": stale session cleanup deferred: " + e.getMessage());
        }
    }

    /** Bytes the read-ahead of all open streams holds now, fetched or in flight (at most half of bufferSize). */
    public long readAheadBytes() {
        return aheadBudget.held();
    }

    private static DiskBlockCache diskCache(VolumeFormat format, VfsOptions options) throws FsException {
        if (options.cacheDirs().isEmpty()) {
            return null;
        }
        try {
            return new DiskBlockCache(options.cacheDirs(), options.diskCacheSize(), options.freeSpaceRatio(),
                    format.uuid());
        } catch (java.io.IOException e) {
            throw new FsException(Errno.EIO, "cannot open the disk cache in " + options.cacheDirs() + ": " + e, e);
        }
    }

    private static CacheGroup cacheGroup(ChunkLayout layout, VolumeFormat format, VfsOptions options)
            throws FsException {
        if (options.cacheGroup().isEmpty()) {
            return null;
        }
        try {
            return new CacheGroup(options.cacheGroup(), !options.noSharing(), options.groupAddress(), layout,
                    format.uuid());
        } catch (java.io.IOException | IllegalArgumentException e) {
            throw new FsException(Errno.EINVAL, "cannot join cache group " + options.cacheGroup() + " at "
                    + (options.groupAddress().isEmpty() ? "this host's address" : options.groupAddress()) + ": "
                    + e.getMessage(), e);
        }
    }

    private void groupMeters(CacheGroup g) {
        metrics.gauge("hangar_cachegroup_members", null, "members of the cache group this process sees (itself too)",
                g, CacheGroup::members);
        metrics.gauge("hangar_cachegroup_owners", null, "members of the cache group that own blocks", g,
                x -> x.ring().size());
        metrics.functionCounter("hangar_cachegroup_peer_hits", null, "blocks fetched from their owner in the group",
                g, CacheGroup::peerHits);
        metrics.functionCounter("hangar_cachegroup_peer_data", "bytes", "bytes of blocks fetched from owners in the group",
                g, CacheGroup::peerBytes);
        metrics.functionCounter("hangar_cachegroup_peer_failures", null,
                "requests to owners that failed (the block was read from the object store instead)", g,
                CacheGroup::peerFailures);
        metrics.functionCounter("hangar_cachegroup_peer_corrupt", null,
                "blocks an owner sent short, long or with a bad checksum (refused, read from the store)", g,
                CacheGroup::peerCorrupt);
        metrics.functionCounter("hangar_cachegroup_served", null, "blocks this member served to others", g,
                CacheGroup::served);
        metrics.functionCounter("hangar_cachegroup_served_data", "bytes", "bytes of blocks this member served to others",
                g, CacheGroup::servedBytes);
        metrics.functionCounter("hangar_cachegroup_warmed_at_owners", null,
                "blocks a warm-up here had their owners load", g, CacheGroup::warmedAtOwners);
    }

    private void diskMeters(DiskBlockCache d) {
        metrics.functionCounter("hangar_diskcache_hits", null, "block reads served from the disk cache", d,
                DiskBlockCache::hits);
        metrics.functionCounter("hangar_diskcache_miss", null, "block reads the disk cache did not hold", d,
                DiskBlockCache::misses);
        metrics.functionCounter("hangar_diskcache_corrupt", null,
                "cached blocks found damaged (length or checksum), dropped and read from the store", d,
                DiskBlockCache::corrupt);
        metrics.functionCounter("hangar_diskcache_evictions", null, "blocks evicted from the disk cache", d,
                DiskBlockCache::evictions);
        metrics.functionCounter("hangar_diskcache_writes", null, "blocks written into the disk cache", d,
                DiskBlockCache::writes);
        metrics.functionCounter("hangar_diskcache_failures", null, "disk cache reads and writes that failed", d,
                DiskBlockCache::failures);
        metrics.functionCounter("hangar_diskcache_behind", null,
                "blocks a read or upload wrote into the disk cache itself, the cache's writer being behind", d,
                DiskBlockCache::behind);
        metrics.gauge("hangar_diskcache", "bytes", "bytes of blocks in the disk cache", d, DiskBlockCache::usedBytes);
        metrics.gauge("hangar_diskcache_limit", "bytes", "the disk cache's size (diskCacheSize)", d,
                DiskBlockCache::capacity);
        metrics.gauge("hangar_diskcache_blocks", null, "blocks in the disk cache", d, DiskBlockCache::blocks);
    }

    /** The disk block cache, if the volume has cache directories (tests, warm-up reports). */
    public java.util.Optional<DiskBlockCache> diskCache() {
        return java.util.Optional.ofNullable(disk);
    }

    /** This process's membership of a cache group, if it joined one. */
    public java.util.Optional<CacheGroup> cacheGroup() {
        return java.util.Optional.ofNullable(group);
    }

    /** Blocks this volume has read from the chunk store for reads and warm-ups, since it opened. */
    public long blocksReadFromStore() {
        return reader.blocksReadFromStore();
    }

    /** Commits buffered writes, ends the session and stops the volume's threads. */
    @Override
    public void close() throws FsException {
        if (closed) {
            return;
        }
        FsException failure = null;
        try {
            flushAll();
        } catch (FsException e) {
            failure = e;
        }
        closed = true;
        if (group != null) {
            group.close(); // leaves: peers stop sending here (the session's close removes it from their lists)
            groupPool.shutdownNow();
        }
        background.shutdownNow();
        compactPool.shutdownNow();
        uploadPool.shutdown();
        readPool.shutdownNow();
        aheadPool.shutdownNow();
        warmPool.shutdownNow();
        try {
            uploadPool.awaitTermination(30, TimeUnit.SECONDS);
            compactPool.awaitTermination(30, TimeUnit.SECONDS);
            meta.closeSession(session);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (FsException e) {
            if (failure == null) {
                failure = e;
            }
        } finally {
            metrics.close();
            gate.close();
            if (disk != null) {
                disk.close();
            }
            if (onClose != null) {
                onClose.run();
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
