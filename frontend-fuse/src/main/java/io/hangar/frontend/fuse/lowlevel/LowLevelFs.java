package io.hangar.frontend.fuse.lowlevel;

import com.kenai.jffi.MemoryIO;
import io.hangar.frontend.fuse.DirStream;
import io.hangar.frontend.fuse.Errnos;
import io.hangar.frontend.fuse.FuseSession;
import io.hangar.frontend.fuse.LockTable;
import io.hangar.frontend.fuse.MountSpec;
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
import io.hangar.vfs.FileHandle;
import io.hangar.vfs.Volume;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * One mount served through libfuse 3's low-level (inode) API: the kernel's node ids are the volume's inode
 * numbers (the mount's root, a subdir's inode for a subdir mount, is node 1), so every name of a hard link
 * is one kernel inode and its cached attributes are right through all of them. Nothing here builds a path.
 * Every callback answers with exactly one {@code fuse_reply_*}; errors are the volume's errnos.
 *
 * <p>Permissions are the kernel's ({@code default_permissions}).
 */
public final class LowLevelFs implements FuseSession {
    private static final Logger LOG = Logger.getLogger(LowLevelFs.class.getName());
    private static final AtomicLong NEXT_HANDLE = new AtomicLong(1L << 40);
    private static final AtomicInteger NEXT_MOUNT = new AtomicInteger(1 << 20);
    /** Requests carry at most 1 MiB (max_write, max_pages 256). */
    public static final int MAX_WRITE = 1 << 20;
    private static final int POOLED = 16;
    private static final int MAX_CACHED = 100_000;
    private static final int[] NO_GROUPS = new int[0];
    private static final long STATFS_BLOCK = 4096;
    private static final long UNLIMITED_BYTES = 1L << 50;
    private static final long UNLIMITED_INODES = 1L << 32;
    private static final int SET_ID = 06000;
    /** copy_file_range copies at most this much per request (a short copy; the caller loops). */
    private static final long MAX_COPY = 64L << 20;
    /** A metadata-only copy_file_range shares at most this much per request (the reply's size is 32 bits). */
    private static final long MAX_SHARE = 1L << 30;

    // capability bits (fuse_common.h)
    static final int CAP_ASYNC_READ = 0x1, CAP_POSIX_LOCKS = 0x2, CAP_ATOMIC_O_TRUNC = 0x8,
            CAP_EXPORT_SUPPORT = 0x10, CAP_SPLICE_WRITE = 0x80, CAP_SPLICE_MOVE = 0x100, CAP_SPLICE_READ = 0x200,
            CAP_FLOCK_LOCKS = 0x400, CAP_READDIRPLUS = 0x2000, CAP_READDIRPLUS_AUTO = 0x4000,
            CAP_ASYNC_DIO = 0x8000, CAP_WRITEBACK_CACHE = 0x10000, CAP_PARALLEL_DIROPS = 0x40000,
            CAP_POSIX_ACL = 0x80000, CAP_HANDLE_KILLPRIV = 0x100000, CAP_HANDLE_KILLPRIV_V2 = 1 << 28;
    // setattr to_set
    private static final int SET_MODE = 1, SET_UID = 2, SET_GID = 4, SET_SIZE = 8, SET_ATIME = 16, SET_MTIME = 32,
            SET_ATIME_NOW = 128, SET_MTIME_NOW = 256;
    private static final int RENAME_WHITEOUT = 4;
    private static final int F_RDLCK = 0, F_WRLCK = 1, F_UNLCK = 2;
    private static final int LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;
    private static final int FALLOC_FL_KEEP_SIZE = 1, FALLOC_FL_PUNCH_HOLE = 2, FALLOC_FL_ZERO_RANGE = 0x10;
    private static final int SEEK_DATA = 3, SEEK_HOLE = 4;
    private static final int ENXIO = 6, ENOSYS = 38;

    private record OpenFile(long inode, FileHandle handle) {
    }

    private record Dir(DirStream stream, long parent) {
    }

    private record XattrKey(long inode, String name) {
    }

    private final Volume volume;
    private final long root;
    private final MountSpec spec;
    private final LowLevelOptions options;
    private final boolean allowOther;
    private final Fuse3 fuse;
    private final Fuse3.Native nat;
    private final Runtime runtime;
    private final LockTable locks;
    private final FuseMetrics metrics;
    private final int mountId = NEXT_MOUNT.getAndIncrement();
    private final Map<Long, OpenFile> files = new ConcurrentHashMap<>();
    private final Map<Long, Dir> dirs = new ConcurrentHashMap<>();
    /** The kernel's lookup count of every node it knows (what forget takes back). */
    private final Map<Long, Long> lookups = new ConcurrentHashMap<>();
    /** inode -> {mtime, length} at this mount's last open of it: keep_cache only if neither changed. */
    private final Map<Long, long[]> cachedAt = new ConcurrentHashMap<>();
    /** security.* names known absent, until the nanoTime stored (the attribute timeout). */
    private final Map<XattrKey, Long> noSecurityXattr = new ConcurrentHashMap<>();
    private final ArrayBlockingQueue<byte[]> buffers = new ArrayBlockingQueue<>(POOLED);
    /**
     * Native 1 MiB buffers replies of read data go out from: the volume copies the bytes read into one from
     * its block memory (the only copy in this process), and libfuse writes it to the kernel. One per worker
     * thread at most, all kept: a dropped direct buffer would hold its memory until a garbage collection.
     */
    private final ArrayBlockingQueue<ReplyBuffer> replyBuffers;

    /** A direct buffer and the native pointer of its first byte. */
    private record ReplyBuffer(ByteBuffer buffer, Pointer address) {
    }
    private final CompletableFuture<Void> initialized = new CompletableFuture<>();
    /** The callbacks and native memory libfuse points at: reachable for as long as this mount lives. */
    private final List<Object> keep = new ArrayList<>();
    private volatile boolean stopping;
    private volatile Pointer session;

    /** Loads libfuse3 (LinkageError/RuntimeException when it cannot). */
    public LowLevelFs(Volume volume, long root, MountSpec spec, LowLevelOptions options, boolean allowOther) {
        this(volume, root, spec, options, allowOther, null);
    }

    /** A mount whose meters go to {@code registry} (null: nowhere); they leave it when the session ends. */
    public LowLevelFs(Volume volume, long root, MountSpec spec, LowLevelOptions options, boolean allowOther,
            MeterRegistry registry) {
        if (!Layout.supported()) {
            throw new UnsupportedOperationException("the libfuse 3 binding's struct layouts are verified for Linux "
                    + "x86_64 only, not " + System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        }
        Fuse3.Lib lib = Fuse3.load();
        this.fuse = lib.fuse();
        this.nat = lib.nat();
        this.runtime = Runtime.getRuntime(fuse);
        this.volume = volume;
        this.root = root;
        this.spec = spec;
        this.options = options;
        this.replyBuffers = new ArrayBlockingQueue<>(options.maxThreads());
        this.allowOther = allowOther;
        this.locks = LockTable.of(volume);
        this.metrics = new FuseMetrics(registry, volume.name(), spec.mountpoint().toString());
        metrics.openHandles(files);
    }

    // ---- session ----

    /** The -o options for fuse_session_new (mount options; libfuse 3 takes no timeouts there). */
    List<String> mountOptions() {
        return spec.mountOptions(volume.name(), allowOther);
    }

    @Override
    public int serve() {
        Pointer ops = Memory.allocateDirect(runtime, Layout.OPS_SIZE, true);
        keep.add(ops);
        installOps(ops);
        List<String> argv = List.of("hangar", "-o", String.join(",", mountOptions()));
        Pointer args = Memory.allocateDirect(runtime, 24, true);
        Pointer vec = Memory.allocateDirect(runtime, 8 * (argv.size() + 1), true);
        for (int i = 0; i < argv.size(); i++) {
            byte[] s = argv.get(i).getBytes(StandardCharsets.UTF_8);
            Pointer p = Memory.allocateDirect(runtime, s.length + 1, true);
            p.put(0, s, 0, s.length);
            p.putByte(s.length, (byte) 0);
            keep.add(p);
            vec.putPointer(8L * i, p);
        }
        args.putInt(0, argv.size());
        args.putPointer(8, vec);
        args.putInt(16, 0);
        keep.add(args);
        keep.add(vec);
        Pointer se = fuse.fuse_session_new(args, ops, Layout.OPS_SIZE, null);
        if (se == null) {
            LOG.severe("fuse_session_new refused the options " + argv.subList(1, argv.size()) + " (libfuse said why on stderr)");
            return -1;
        }
        session = se;
        try {
            if (fuse.fuse_session_mount(se, spec.mountpoint().toString()) != 0) {
                LOG.severe("fuse_session_mount of " + spec.mountpoint() + " failed (libfuse said why on stderr)");
                return -1;
            }
            Pointer cfg = fuse.fuse_loop_cfg_create();
            int rc;
            try {
                fuse.fuse_loop_cfg_set_max_threads(cfg, options.maxThreads());
                // Idle workers stay: each one a thread attached to the JVM once, not per request.
                fuse.fuse_loop_cfg_set_idle_threads(cfg, options.maxThreads());
                rc = fuse.fuse_session_loop_mt_312(se, cfg);
            } finally {
                fuse.fuse_loop_cfg_destroy(cfg);
            }
            fuse.fuse_session_unmount(se);
            return rc;
        } finally {
            backgroundWarm.shutdownNow(); // a queued warm-up is a hint: it goes with the mount
            fuse.fuse_session_destroy(se);
            session = null;
        }
    }

    @Override
    public CompletableFuture<Void> initialized() {
        return initialized;
    }

    @Override
    public void stopping() {
        stopping = true;
    }

    @Override
    public FsException releaseAll() {
        FsException first = null;
        Set<Long> handles = Set.copyOf(files.keySet());
        for (Long fh : handles) {
            OpenFile f = files.remove(fh);
            if (f == null) {
                continue;
            }
            try {
                f.handle.close();
            } catch (FsException e) {
                LOG.log(Level.WARNING, "volume " + volume.name() + ": closing inode " + f.inode + " failed", e);
                first = first == null ? e : first;
            }
        }
        locks.releaseAll(mountId, handles);
        dirs.clear();
        lookups.clear();
        metrics.close();
        return first;
    }

    /** How many nodes the kernel holds a lookup of (for tests and diagnostics). */
    public int knownNodes() {
        return lookups.size();
    }

    // ---- plumbing ----

    @FunctionalInterface
    private interface Op {
        void run() throws FsException, Errnos.LockFailure, InterruptedException;
    }

    /** Runs an operation, timed as {@code what} (hangar_fuse_op_duration_seconds). */
    private void call(Pointer req, String what, Op op) {
        long start = System.nanoTime();
        try {
            dispatch(req, what, op);
        } finally {
            metrics.op(what).record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        }
    }

    /** Runs an operation that replies itself on success; any failure is replied as its errno. */
    private void dispatch(Pointer req, String what, Op op) {
        int errno;
        try {
            op.run();
            return;
        } catch (FsException e) {
            if (e.errno() == Errno.EIO) {
                LOG.log(Level.WARNING, "volume " + volume.name() + ": " + what + ": " + e.getMessage());
            }
            errno = e.errno().value();
        } catch (Errnos.LockFailure e) {
            errno = e.errno;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            errno = Errnos.EINTR;
        } catch (RuntimeException | Error e) {
            LOG.log(Level.SEVERE, "volume " + volume.name() + ": " + what + " failed unexpectedly", e);
            errno = Errno.EIO.value();
        }
        fuse.fuse_reply_err(req, errno);
    }

    private long vfs(long node) {
        return node == 1 ? root : node;
    }

    private long node(long inode) {
        return inode == root ? 1 : inode;
    }

    private void writable() throws FsException {
        if (spec.readOnly()) {
            throw new FsException(Errno.EROFS, "mounted read-only");
        }
    }

    private Caller caller(Pointer req) {
        Pointer c = fuse.fuse_req_ctx(req);
        return new Caller(c.getInt(Layout.CTX_UID), c.getInt(Layout.CTX_GID), NO_GROUPS, c.getInt(Layout.CTX_PID));
    }

    private Caller callerWithGroups(Pointer req) {
        Caller c = caller(req);
        int[] groups = new int[64];
        int n = fuse.fuse_req_getgroups(req, groups.length, groups);
        if (n > groups.length) {
            groups = new int[n];
            n = fuse.fuse_req_getgroups(req, groups.length, groups);
        }
        return n <= 0 ? c : new Caller(c.uid(), c.gid(), Arrays.copyOf(groups, Math.min(n, groups.length)), c.pid());
    }

    private static String name(Pointer p) throws FsException {
        String n = p.getString(0, 4096, StandardCharsets.UTF_8);
        if (n.isEmpty() || n.equals(".") || n.equals("..") || n.indexOf('/') >= 0) {
            throw new FsException(Errno.EINVAL, "'" + n + "' is not a name");
        }
        return n;
    }

    private static boolean present(Pointer p) {
        return p != null && p.address() != 0;
    }

    private static String string(Pointer p) {
        return p.getString(0, 4096, StandardCharsets.UTF_8);
    }

    private OpenFile file(Pointer fi) throws FsException {
        long fh = fi.getLong(Layout.FI_FH);
        OpenFile f = files.get(fh);
        if (f == null) {
            throw new FsException(Errno.EBADF, "unknown file handle " + fh);
        }
        return f;
    }

    private byte[] entryOf(Attr a) {
        return Layout.entry(node(a.inode()), a, spec.attrTimeout(), spec.entryTimeout(), MAX_WRITE);
    }

    /** Replies an entry and counts the kernel's new lookup of it. */
    private void replyEntry(Pointer req, Attr a) {
        if (fuse.fuse_reply_entry(req, entryOf(a)) == 0) {
            looked(node(a.inode()));
        }
    }

    private void looked(long node) {
        lookups.merge(node, 1L, Long::sum);
    }

    private void forget(long node, long n) {
        lookups.computeIfPresent(node, (k, v) -> v - n <= 0 ? null : v - n);
    }

    private byte[] borrow(int size) {
        byte[] b = size <= MAX_WRITE ? buffers.poll() : null;
        return b != null ? b : new byte[Math.max(size, MAX_WRITE)];
    }

    private void giveBack(byte[] b) {
        if (b.length == MAX_WRITE) {
            buffers.offer(b);
        }
    }

    private ReplyBuffer borrowReply() {
        ReplyBuffer r = replyBuffers.poll();
        if (r == null) {
            ByteBuffer b = ByteBuffer.allocateDirect(MAX_WRITE);
            r = new ReplyBuffer(b, Pointer.wrap(runtime, MemoryIO.getInstance().getDirectBufferAddress(b)));
        }
        r.buffer().clear();
        return r;
    }

    private BooleanSupplier interrupted(Pointer req) {
        return () -> stopping || fuse.fuse_req_interrupted(req) != 0;
    }

    /** The virtual extended attribute of the cache's control ({@link #cacheControl}). */
    static final String CACHE_XATTR = "hangar.cache";
    /** The longest answer of the cache's control: six fields of up to 19 digits and their names. */
    static final int CACHE_ANSWER_MAX = 192;
    /** Files a background warm-up may have waiting; past that a request is refused with EAGAIN. */
    static final int BACKGROUND_WARM_QUEUE = 100_000;
    /** Background warm-ups (hangar.cache.warm.background): one file at a time, in the order asked. */
    private final java.util.concurrent.ThreadPoolExecutor backgroundWarm = new java.util.concurrent.ThreadPoolExecutor(
            1, 1, 0, TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(BACKGROUND_WARM_QUEUE), r -> {
                Thread t = new Thread(r, "hangar-fuse-background-warmup");
                t.setDaemon(true);
                return t;
            });
    /** Inodes queued for a background warm-up: asking again while one waits queues nothing more. */
    private final Set<Long> warmQueued = ConcurrentHashMap.newKeySet();

    private static String xattrNamespaceChecked(String name) throws FsException {
        if (name.startsWith("user.") || name.startsWith("trusted.") || name.startsWith("security.")) {
            return name;
        }
        throw new FsException(Errno.EOPNOTSUPP, "extended attribute namespace of '" + name + "' not supported");
    }

    private static long nanos(Pointer stat, int off) {
        return stat.getLong(off) * 1_000_000_000L + stat.getLong(off + 8);
    }

    // ---- the operations table ----

    private void installOps(Pointer ops) {
        set(ops, Fuse3.INIT, Fuse3.InitCb.class, (Fuse3.InitCb) this::init);
        set(ops, Fuse3.DESTROY, Fuse3.DestroyCb.class, (Fuse3.DestroyCb) u -> { });
        set(ops, Fuse3.LOOKUP, Fuse3.NameCb.class, (Fuse3.NameCb) this::lookup);
        set(ops, Fuse3.FORGET, Fuse3.ForgetCb.class, (Fuse3.ForgetCb) (req, ino, n) -> {
            forget(ino, n);
            fuse.fuse_reply_none(req);
        });
        set(ops, Fuse3.FORGET_MULTI, Fuse3.ForgetMultiCb.class, (Fuse3.ForgetMultiCb) (req, count, list) -> {
            for (long i = 0; i < count; i++) {
                forget(list.getLong(16 * i), list.getLong(16 * i + 8));
            }
            fuse.fuse_reply_none(req);
        });
        set(ops, Fuse3.GETATTR, Fuse3.InoFiCb.class, (Fuse3.InoFiCb) this::getattr);
        set(ops, Fuse3.SETATTR, Fuse3.SetattrCb.class, (Fuse3.SetattrCb) this::setattr);
        set(ops, Fuse3.READLINK, Fuse3.InoCb.class, (Fuse3.InoCb) this::readlink);
        set(ops, Fuse3.MKNOD, Fuse3.MknodCb.class, (Fuse3.MknodCb) this::mknod);
        set(ops, Fuse3.MKDIR, Fuse3.MkdirCb.class, (Fuse3.MkdirCb) this::mkdir);
        set(ops, Fuse3.UNLINK, Fuse3.NameCb.class, (Fuse3.NameCb) this::unlink);
        set(ops, Fuse3.RMDIR, Fuse3.NameCb.class, (Fuse3.NameCb) this::rmdir);
        set(ops, Fuse3.SYMLINK, Fuse3.SymlinkCb.class, (Fuse3.SymlinkCb) this::symlink);
        set(ops, Fuse3.RENAME, Fuse3.RenameCb.class, (Fuse3.RenameCb) this::rename);
        set(ops, Fuse3.LINK, Fuse3.LinkCb.class, (Fuse3.LinkCb) this::link);
        set(ops, Fuse3.OPEN, Fuse3.InoFiCb.class, (Fuse3.InoFiCb) this::open);
        set(ops, Fuse3.READ, Fuse3.ReadCb.class, (Fuse3.ReadCb) this::read);
        set(ops, Fuse3.WRITE, Fuse3.WriteCb.class, (Fuse3.WriteCb) this::write);
        set(ops, Fuse3.FLUSH, Fuse3.InoFiCb.class, (Fuse3.InoFiCb) this::flush);
        set(ops, Fuse3.RELEASE, Fuse3.InoFiCb.class, (Fuse3.InoFiCb) this::release);
        set(ops, Fuse3.FSYNC, Fuse3.FsyncCb.class, (Fuse3.FsyncCb) this::fsync);
        set(ops, Fuse3.OPENDIR, Fuse3.InoFiCb.class, (Fuse3.InoFiCb) this::opendir);
        set(ops, Fuse3.READDIR, Fuse3.ReadCb.class, (Fuse3.ReadCb) (req, ino, size, off, fi) ->
                readdir(req, size, off, fi, false));
        set(ops, Fuse3.READDIRPLUS, Fuse3.ReadCb.class, (Fuse3.ReadCb) (req, ino, size, off, fi) ->
                readdir(req, size, off, fi, true));
        set(ops, Fuse3.RELEASEDIR, Fuse3.InoFiCb.class, (Fuse3.InoFiCb) (req, ino, fi) -> {
            dirs.remove(fi.getLong(Layout.FI_FH));
            fuse.fuse_reply_err(req, 0);
        });
        set(ops, Fuse3.FSYNCDIR, Fuse3.FsyncCb.class, (Fuse3.FsyncCb) (req, ino, d, fi) -> call(req, "fsyncdir",
                () -> {
                    volume.syncDirectory(vfs(ino));
                    fuse.fuse_reply_err(req, 0);
                }));
        set(ops, Fuse3.STATFS, Fuse3.InoCb.class, (Fuse3.InoCb) this::statfs);
        set(ops, Fuse3.SETXATTR, Fuse3.SetxattrCb.class, (Fuse3.SetxattrCb) this::setxattr);
        set(ops, Fuse3.GETXATTR, Fuse3.GetxattrCb.class, (Fuse3.GetxattrCb) this::getxattr);
        set(ops, Fuse3.LISTXATTR, Fuse3.ListxattrCb.class, (Fuse3.ListxattrCb) this::listxattr);
        set(ops, Fuse3.REMOVEXATTR, Fuse3.RemovexattrCb.class, (Fuse3.RemovexattrCb) this::removexattr);
        set(ops, Fuse3.CREATE, Fuse3.CreateCb.class, (Fuse3.CreateCb) this::create);
        set(ops, Fuse3.GETLK, Fuse3.GetlkCb.class, (Fuse3.GetlkCb) this::getlk);
        set(ops, Fuse3.SETLK, Fuse3.SetlkCb.class, (Fuse3.SetlkCb) this::setlk);
        set(ops, Fuse3.FLOCK, Fuse3.FlockCb.class, (Fuse3.FlockCb) this::flock);
        set(ops, Fuse3.FALLOCATE, Fuse3.FallocateCb.class, (Fuse3.FallocateCb) this::fallocate);
        set(ops, Fuse3.COPY_FILE_RANGE, Fuse3.CopyFileRangeCb.class, (Fuse3.CopyFileRangeCb) this::copyFileRange);
        set(ops, Fuse3.LSEEK, Fuse3.LseekCb.class, (Fuse3.LseekCb) this::lseek);
    }

    private <T> void set(Pointer ops, int slot, Class<T> type, T callback) {
        keep.add(callback);
        Pointer p = runtime.getClosureManager().getClosurePointer(type, callback);
        keep.add(p);
        ops.putPointer(8L * slot, p);
    }

    // ---- lifecycle ----

    private void init(Pointer userdata, Pointer conn) {
        try {
            int capable = conn.getInt(Layout.CONN_CAPABLE);
            int want = conn.getInt(Layout.CONN_WANT);
            want |= capable & (CAP_ASYNC_READ | CAP_ATOMIC_O_TRUNC | CAP_PARALLEL_DIROPS | CAP_READDIRPLUS
                    | CAP_READDIRPLUS_AUTO | CAP_POSIX_LOCKS | CAP_FLOCK_LOCKS | CAP_ASYNC_DIO);
            // No lookups by inode alone (EXPORT_SUPPORT), no ACLs; the kernel drops set-id bits itself
            // (no HANDLE_KILLPRIV); no splice (the data crosses into Java anyway).
            want &= ~(CAP_EXPORT_SUPPORT | CAP_POSIX_ACL | CAP_HANDLE_KILLPRIV | CAP_HANDLE_KILLPRIV_V2
                    | CAP_WRITEBACK_CACHE | CAP_SPLICE_READ | CAP_SPLICE_WRITE | CAP_SPLICE_MOVE);
            if (options.writebackCache() && (capable & CAP_WRITEBACK_CACHE) != 0) {
                want |= CAP_WRITEBACK_CACHE;
            }
            conn.putInt(Layout.CONN_WANT, want);
            conn.putInt(Layout.CONN_MAX_WRITE, MAX_WRITE);
            conn.putInt(Layout.CONN_MAX_BACKGROUND, options.maxBackground());
            conn.putInt(Layout.CONN_CONGESTION_THRESHOLD, options.congestionThreshold());
            LOG.fine("FUSE INIT: capable 0x" + Integer.toHexString(capable) + ", want 0x" + Integer.toHexString(want));
        } catch (RuntimeException | Error e) {
            LOG.log(Level.SEVERE, "FUSE init failed", e);
        }
        initialized.complete(null);
    }

    // ---- names and attributes ----

    private void lookup(Pointer req, long parent, Pointer namePtr) {
        call(req, "lookup", () -> {
            String n = name(namePtr);
            Entry e;
            try {
                e = volume.lookup(vfs(parent), n);
            } catch (FsException x) {
                if (x.errno() == Errno.ENOENT && options.negativeTimeout() > 0) {
                    fuse.fuse_reply_entry(req, Layout.entry(0, null, 0, options.negativeTimeout(), MAX_WRITE));
                    return;
                }
                throw x;
            }
            replyEntry(req, e.attr());
        });
    }

    private void getattr(Pointer req, long ino, Pointer fi) {
        call(req, "getattr", () -> {
            long inode = present(fi) && files.containsKey(fi.getLong(Layout.FI_FH)) ? file(fi).inode : vfs(ino);
            fuse.fuse_reply_attr(req, Layout.stat(volume.getattr(inode), MAX_WRITE), spec.attrTimeout());
        });
    }

    private void setattr(Pointer req, long ino, Pointer st, int toSet, Pointer fi) {
        call(req, "setattr", () -> {
            writable();
            long inode = vfs(ino);
            Integer mode = (toSet & SET_MODE) != 0 ? st.getInt(Layout.ST_MODE) & 07777 : null;
            Integer uid = (toSet & SET_UID) != 0 ? st.getInt(Layout.ST_UID) : null;
            Integer gid = (toSet & SET_GID) != 0 ? st.getInt(Layout.ST_GID) : null;
            Long size = (toSet & SET_SIZE) != 0 ? st.getLong(Layout.ST_SIZE) : null;
            Long atime = (toSet & SET_ATIME_NOW) != 0 ? Long.valueOf(SetAttr.NOW)
                    : (toSet & SET_ATIME) != 0 ? Long.valueOf(nanos(st, Layout.ST_ATIM)) : null;
            Long mtime = (toSet & SET_MTIME_NOW) != 0 ? Long.valueOf(SetAttr.NOW)
                    : (toSet & SET_MTIME) != 0 ? Long.valueOf(nanos(st, Layout.ST_MTIM)) : null;
            if (size != null) {
                cachedAt.remove(inode);
            }
            Caller c = uid != null || gid != null ? callerWithGroups(req) : caller(req);
            SetAttr change = new SetAttr(mode, uid, gid, size, atime, mtime, null);
            Attr a;
            try {
                a = volume.setattr(c, inode, change);
            } catch (FsException e) {
                if (e.errno() != Errno.EPERM || mode == null) {
                    throw e;
                }
                Attr now = volume.getattr(inode);
                int m = mode;
                boolean onlyDropsSetId = (m | (now.mode() & SET_ID)) == now.mode() && m != now.mode();
                if (!onlyDropsSetId) {
                    throw e;
                }
                // The kernel dropping set-id bits after a write or truncate by someone who is not the owner
                // (it checked the caller already): no chmod of the caller's.
                a = volume.setattr(Caller.ROOT, inode, SetAttr.mode(m));
                SetAttr rest = new SetAttr(null, uid, gid, size, atime, mtime, null);
                if (uid != null || gid != null || size != null || atime != null || mtime != null) {
                    a = volume.setattr(c, inode, rest);
                }
            }
            if (size == null && isOpen(inode)) {
                // Volume.setattr answers the engine's attributes, without the length the handles' buffered
                // writes already gave the file (getattr counts them): the kernel would cut its size back.
                a = volume.getattr(inode);
            }
            fuse.fuse_reply_attr(req, Layout.stat(a, MAX_WRITE), spec.attrTimeout());
        });
    }

    private boolean isOpen(long inode) {
        for (OpenFile f : files.values()) {
            if (f.inode == inode) {
                return true;
            }
        }
        return false;
    }

    private void readlink(Pointer req, long ino) {
        call(req, "readlink", () -> {
            byte[] t = volume.readlink(vfs(ino)).getBytes(StandardCharsets.UTF_8);
            fuse.fuse_reply_readlink(req, Arrays.copyOf(t, t.length + 1));
        });
    }

    private void mknod(Pointer req, long parent, Pointer namePtr, int mode, long rdev) {
        call(req, "mknod", () -> {
            writable();
            FileType type;
            try {
                type = FileType.fromMode(mode);
            } catch (IllegalArgumentException e) {
                throw new FsException(Errno.EINVAL, e.getMessage());
            }
            if (type == FileType.DIRECTORY || type == FileType.SYMLINK) {
                throw new FsException(Errno.EINVAL, "mknod cannot make a " + type);
            }
            Entry e = volume.mknod(caller(req), vfs(parent), name(namePtr), type, mode & 07777, (int) rdev);
            replyEntry(req, e.attr());
        });
    }

    private void mkdir(Pointer req, long parent, Pointer namePtr, int mode) {
        call(req, "mkdir", () -> {
            writable();
            replyEntry(req, volume.mkdir(caller(req), vfs(parent), name(namePtr), mode & 07777).attr());
        });
    }

    private void unlink(Pointer req, long parent, Pointer namePtr) {
        call(req, "unlink", () -> {
            writable();
            volume.unlink(caller(req), vfs(parent), name(namePtr));
            fuse.fuse_reply_err(req, 0);
        });
    }

    private void rmdir(Pointer req, long parent, Pointer namePtr) {
        call(req, "rmdir", () -> {
            writable();
            volume.rmdir(caller(req), vfs(parent), name(namePtr));
            fuse.fuse_reply_err(req, 0);
        });
    }

    private void symlink(Pointer req, Pointer link, long parent, Pointer namePtr) {
        call(req, "symlink", () -> {
            writable();
            replyEntry(req, volume.symlink(caller(req), vfs(parent), name(namePtr), string(link)).attr());
        });
    }

    private void rename(Pointer req, long parent, Pointer namePtr, long newParent, Pointer newNamePtr, int flags) {
        call(req, "rename", () -> {
            writable();
            if ((flags & RENAME_WHITEOUT) != 0 || (flags & ~7) != 0) {
                throw new FsException(Errno.EINVAL, "rename flags 0x" + Integer.toHexString(flags) + " not supported");
            }
            // RENAME_NOREPLACE and RENAME_EXCHANGE go to the engine as the kernel sent them.
            volume.rename(caller(req), vfs(parent), name(namePtr), vfs(newParent), name(newNamePtr), flags);
            fuse.fuse_reply_err(req, 0);
        });
    }

    private void link(Pointer req, long ino, long newParent, Pointer newNamePtr) {
        call(req, "link", () -> {
            writable();
            replyEntry(req, volume.link(caller(req), vfs(ino), vfs(newParent), name(newNamePtr)).attr());
        });
    }

    // ---- files ----

    private int openFlags(Pointer fi) {
        int flags = fi.getInt(Layout.FI_FLAGS) & (OpenFlags.ACCMODE | OpenFlags.APPEND | OpenFlags.TRUNC | OpenFlags.EXCL);
        if (options.writebackCache()) {
            // The kernel reads pages around partial writes through any handle and positions appends itself.
            if ((flags & OpenFlags.ACCMODE) == OpenFlags.WRONLY) {
                flags = (flags & ~OpenFlags.ACCMODE) | OpenFlags.RDWR;
            }
            flags &= ~OpenFlags.APPEND;
        }
        return flags;
    }

    private long register(Pointer fi, OpenFile f) {
        long fh = NEXT_HANDLE.getAndIncrement();
        files.put(fh, f);
        fi.putLong(Layout.FI_FH, fh);
        return fh;
    }

    /** The reply to open/create failed (the request was interrupted): nobody will release the handle. */
    private void unregister(long fh) {
        OpenFile f = files.remove(fh);
        if (f != null) {
            try {
                f.handle.close();
            } catch (FsException e) {
                LOG.log(Level.WARNING, "closing an open nobody received", e);
            }
        }
    }

    private void create(Pointer req, long parent, Pointer namePtr, int mode, Pointer fi) {
        call(req, "create", () -> {
            writable();
            FileHandle h = volume.create(caller(req), vfs(parent), name(namePtr), mode & 07777,
                    openFlags(fi) | OpenFlags.CREAT);
            Attr a;
            try {
                a = volume.getattr(h.inode());
            } catch (FsException | RuntimeException e) {
                h.close();
                throw e;
            }
            long fh = register(fi, new OpenFile(h.inode(), h));
            // A new file has no xattrs: the kernel's security.capability question before its first write is
            // answered here (a setxattr through this mount forgets it, as for any remembered absence).
            absentUntilTimeout(new XattrKey(h.inode(), "security.capability"));
            if (fuse.fuse_reply_create(req, entryOf(a), fi) == 0) {
                looked(node(a.inode()));
            } else {
                unregister(fh);
            }
        });
    }

    private void open(Pointer req, long ino, Pointer fi) {
        call(req, "open", () -> {
            int flags = openFlags(fi);
            if (OpenFlags.writable(flags) || (flags & OpenFlags.TRUNC) != 0) {
                writable();
            }
            long inode = vfs(ino);
            FileHandle h = volume.open(caller(req), inode, flags);
            try {
                Attr a = volume.getattr(inode);
                long[] now = {a.mtimeNs(), a.length()};
                if (cachedAt.size() >= MAX_CACHED) {
                    cachedAt.clear();
                }
                long[] before = cachedAt.put(inode, now);
                if (before != null && before[0] == now[0] && before[1] == now[1]) {
                    fi.putInt(Layout.FI_BITS, fi.getInt(Layout.FI_BITS) | Layout.FI_KEEP_CACHE);
                }
            } catch (FsException | RuntimeException e) {
                h.close();
                throw e;
            }
            long fh = register(fi, new OpenFile(inode, h));
            if (fuse.fuse_reply_open(req, fi) != 0) {
                unregister(fh);
            }
        });
    }

    private void read(Pointer req, long ino, long size, long off, Pointer fi) {
        call(req, "read", () -> {
            OpenFile f = file(fi);
            int want = (int) Math.min(size, MAX_WRITE);
            // Most requests of a sequential reader lie in one block: reply straight from the block's memory.
            // Bytes are counted before the reply: a reader that has its data sees them in /metrics.
            int viewed = f.handle.readView(off, want, view -> {
                metrics.readBytes.increment(view.remaining());
                nat.fuse_reply_buf(req, Pointer.wrap(runtime,
                        MemoryIO.getInstance().getDirectBufferAddress(view) + view.position()), view.remaining());
            });
            if (viewed >= 0) {
                if (viewed == 0) {
                    nat.fuse_reply_buf(req, null, 0);
                }
                return;
            }
            ReplyBuffer r = borrowReply();
            try {
                ByteBuffer b = r.buffer().limit(want);
                while (b.hasRemaining()) {
                    if (f.handle.read(off + b.position(), b) <= 0) {
                        break;
                    }
                }
                metrics.readBytes.increment(b.position());
                nat.fuse_reply_buf(req, b.position() == 0 ? null : r.address(), b.position());
            } finally {
                replyBuffers.offer(r);
            }
        });
    }

    private void write(Pointer req, long ino, Pointer buf, long size, long off, Pointer fi) {
        call(req, "write", () -> {
            writable();
            OpenFile f = file(fi);
            // The request's own native buffer, seen as a ByteBuffer: the volume copies from it into its block
            // memory, the only copy in this process.
            ByteBuffer data = MemoryIO.getInstance().newDirectByteBuffer(buf.address(), (int) size);
            cachedAt.remove(f.inode);
            f.handle.write(off, data);
            metrics.writtenBytes.increment(size);
            fuse.fuse_reply_write(req, size);
        });
    }

    private void flush(Pointer req, long ino, Pointer fi) {
        call(req, "flush", () -> {
            OpenFile f = file(fi);
            // close(2) of any descriptor drops the process's POSIX locks on the file: the FLUSH of every
            // close carries the lock owner.
            locks.unlock(f.inode, fi.getLong(Layout.FI_LOCK_OWNER), 0, LockTable.TO_EOF);
            f.handle.flush();
            fuse.fuse_reply_err(req, 0);
        });
    }

    private void fsync(Pointer req, long ino, int datasync, Pointer fi) {
        call(req, "fsync", () -> {
            file(fi).handle.fsync();
            fuse.fuse_reply_err(req, 0);
        });
    }

    private void release(Pointer req, long ino, Pointer fi) {
        call(req, "release", () -> {
            long fh = fi.getLong(Layout.FI_FH);
            OpenFile f = files.remove(fh);
            if (f == null) {
                fuse.fuse_reply_err(req, 0);
                return;
            }
            // BSD locks belong to the open file: its release drops them.
            locks.funlock(f.inode, fh);
            f.handle.close();
            fuse.fuse_reply_err(req, 0);
        });
    }

    private void fallocate(Pointer req, long ino, int mode, long offset, long length, Pointer fi) {
        call(req, "fallocate", () -> {
            writable();
            OpenFile f = file(fi);
            if (offset < 0 || length <= 0) {
                throw new FsException(Errno.EINVAL, "fallocate range " + offset + "+" + length);
            }
            if (mode == 0) {
                long end = offset + length;
                if (end < 0) {
                    throw new FsException(Errno.EFBIG, "fallocate past the largest file");
                }
                // Nothing to reserve (blocks are written when data comes), but the size grows like
                // posix_fallocate's: the new range reads as zeros.
                if (volume.getattr(f.inode).length() < end) {
                    cachedAt.remove(f.inode);
                    volume.setattr(caller(req), f.inode, SetAttr.size(end));
                }
            } else if (mode == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) || mode == FALLOC_FL_ZERO_RANGE
                    || mode == (FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE)) {
                // Hole records over the range, after this file's buffered writes (no data written): punching
                // and zeroing read the same here, since no blocks are reserved.
                cachedAt.remove(f.inode);
                volume.zeroRange(caller(req), f.inode, offset, length, (mode & FALLOC_FL_KEEP_SIZE) != 0);
            } else if (mode != FALLOC_FL_KEEP_SIZE) {
                // PUNCH_HOLE without KEEP_SIZE (Linux refuses it too), COLLAPSE/INSERT_RANGE, UNSHARE.
                throw new FsException(Errno.EOPNOTSUPP, "fallocate mode 0x" + Integer.toHexString(mode));
            }
            fuse.fuse_reply_err(req, 0);
        });
    }

    private void lseek(Pointer req, long ino, long off, int whence, Pointer fi) {
        call(req, "lseek", () -> {
            if (whence != SEEK_DATA && whence != SEEK_HOLE) {
                throw new FsException(Errno.EINVAL, "lseek whence " + whence);
            }
            long length = volume.getattr(file(fi).inode).length();
            if (off < 0 || off >= length) {
                fuse.fuse_reply_err(req, ENXIO);
                return;
            }
            // The Volume API does not tell holes apart from data: all of a file is data, its end the one
            // hole (what Linux does for file systems without hole information).
            fuse.fuse_reply_lseek(req, whence == SEEK_DATA ? off : length);
        });
    }

    /**
     * Metadata-only where the engine can ({@code Volume.copyRange}: the ranges share slices, no block is read
     * or written, both files' buffered writes committed first); a copy of the bytes through the volume where
     * it says EOPNOTSUPP. Either way short at the end of the source, and at most a bounded amount per call.
     */
    private void copyFileRange(Pointer req, long inoIn, long offIn, Pointer fiIn, long inoOut, long offOut,
            Pointer fiOut, long len, int flags) {
        call(req, "copy_file_range", () -> {
            writable();
            if (flags != 0) {
                throw new FsException(Errno.EINVAL, "copy_file_range flags " + flags);
            }
            OpenFile in = file(fiIn);
            OpenFile out = file(fiOut);
            cachedAt.remove(out.inode);
            try {
                // len is a size_t: read past 2^63 as unsigned.
                long share = len < 0 ? MAX_SHARE : Math.min(len, MAX_SHARE);
                fuse.fuse_reply_write(req, volume.copyRange(caller(req), in.inode, offIn, out.inode, offOut, share));
                return;
            } catch (FsException e) {
                if (e.errno() != Errno.EOPNOTSUPP) {
                    throw e;
                }
            }
            long todo = Math.min(len, MAX_COPY);
            byte[] b = borrow(MAX_WRITE);
            long done = 0;
            try {
                while (done < todo) {
                    int n = in.handle.read(offIn + done, b, 0, (int) Math.min(MAX_WRITE, todo - done));
                    if (n <= 0) {
                        break;
                    }
                    out.handle.write(offOut + done, b, 0, n);
                    done += n;
                }
            } finally {
                giveBack(b);
            }
            fuse.fuse_reply_write(req, done);
        });
    }

    // ---- directories ----

    private void opendir(Pointer req, long ino, Pointer fi) {
        call(req, "opendir", () -> {
            long inode = vfs(ino);
            Attr a = volume.getattr(inode);
            if (!a.isDirectory()) {
                throw new FsException(Errno.ENOTDIR, "inode " + inode + " is not a directory");
            }
            long parent = inode == root ? inode : a.parent();
            long fh = NEXT_HANDLE.getAndIncrement();
            dirs.put(fh, new Dir(new DirStream(volume, inode, true), parent));
            fi.putLong(Layout.FI_FH, fh);
            if (fuse.fuse_reply_open(req, fi) != 0) {
                dirs.remove(fh);
            }
        });
    }

    /**
     * Offsets: "." is 0, ".." 1, the stream's entry i is i + 2; each entry carries the offset of the one after
     * it, so the kernel resumes exactly there. With {@code plus} every entry but the dots carries its
     * attributes and counts as a lookup.
     */
    private void readdir(Pointer req, long size, long offset, Pointer fi, boolean plus) {
        call(req, plus ? "readdirplus" : "readdir", () -> {
            Dir d = dirs.get(fi.getLong(Layout.FI_FH));
            if (d == null) {
                throw new FsException(Errno.EBADF, "unknown directory handle " + fi.getLong(Layout.FI_FH));
            }
            int cap = (int) Math.min(size, 1 << 20);
            Pointer buf = Memory.allocateDirect(runtime, Math.max(cap, 1), false);
            long used = 0;
            for (long pos = offset;; pos++) {
                byte[] nameBytes;
                long ino;
                int typeBits;
                Attr attr = null;
                if (pos == 0 || pos == 1) {
                    nameBytes = (pos == 0 ? ".\0" : "..\0").getBytes(StandardCharsets.US_ASCII);
                    ino = pos == 0 ? d.stream.inode() : d.parent;
                    typeBits = FileType.DIRECTORY.modeBits();
                } else {
                    DirEntry e = d.stream.get(pos - 2);
                    if (e == null) {
                        break;
                    }
                    byte[] n = e.name().getBytes(StandardCharsets.UTF_8);
                    nameBytes = Arrays.copyOf(n, n.length + 1);
                    ino = e.inode();
                    typeBits = e.type().modeBits();
                    if (plus) {
                        attr = e.attr() != null ? e.attr() : volume.getattr(e.inode());
                    }
                }
                long need;
                Pointer at = buf.slice(used);
                if (!plus) {
                    need = nat.fuse_add_direntry(req, at, cap - used, nameBytes, Layout.dirStat(ino, typeBits), pos + 1);
                } else if (attr == null) {
                    byte[] dot = Layout.entry(0, null, 0, 0, MAX_WRITE);
                    System.arraycopy(Layout.dirStat(ino, typeBits), 0, dot, 16, Layout.STAT);
                    need = nat.fuse_add_direntry_plus(req, at, cap - used, nameBytes, dot, pos + 1);
                } else {
                    need = nat.fuse_add_direntry_plus(req, at, cap - used, nameBytes, entryOf(attr), pos + 1);
                }
                if (need > cap - used) {
                    break;
                }
                used += need;
                if (attr != null) {
                    looked(node(attr.inode()));
                }
            }
            nat.fuse_reply_buf(req, buf, used);
        });
    }

    // ---- statfs and extended attributes ----

    private void statfs(Pointer req, long ino) {
        call(req, "statfs", () -> {
            StatFs s = volume.statfs();
            long capacity = s.capacityBytes() > 0 ? s.capacityBytes() : UNLIMITED_BYTES + s.usedBytes();
            long blocks = capacity / STATFS_BLOCK;
            long free = Math.max(0, blocks - (s.usedBytes() + STATFS_BLOCK - 1) / STATFS_BLOCK);
            long filesTotal = s.inodeLimit() > 0 ? s.inodeLimit() : UNLIMITED_INODES + s.usedInodes();
            long freeFiles = Math.max(0, filesTotal - s.usedInodes());
            fuse.fuse_reply_statfs(req, Layout.statvfs(STATFS_BLOCK, blocks, free, filesTotal, freeFiles, 255));
        });
    }

    private void setxattr(Pointer req, long ino, Pointer namePtr, Pointer value, long size, int flags) {
        call(req, "setxattr", () -> {
            writable();
            String n = xattrNamespaceChecked(string(namePtr));
            byte[] v = new byte[(int) size];
            value.get(0, v, 0, v.length);
            long inode = vfs(ino);
            noSecurityXattr.remove(new XattrKey(inode, n));
            volume.setxattr(caller(req), inode, n, v, flags);
            fuse.fuse_reply_err(req, 0);
        });
    }

    /**
     * security.* names the volume does not hold are remembered as absent for the attribute timeout: the
     * kernel asks for security.capability before every write, and that answer then costs no metadata read.
     * This mount's own setxattr forgets it at once; another client's shows within the timeout.
     */
    private void getxattr(Pointer req, long ino, Pointer namePtr, long size) {
        call(req, "getxattr", () -> {
            String raw = string(namePtr);
            if (raw.equals(CACHE_XATTR) || raw.equals(CACHE_XATTR + ".warm") || raw.equals(CACHE_XATTR + ".evict")
                    || raw.equals(CACHE_XATTR + ".warm.background")) {
                if (size == 0 && !raw.equals(CACHE_XATTR)) {
                    // A size probe (getfattr asks twice) must not warm or evict: it is told the most an answer
                    // takes, and the read that follows acts once.
                    volume.getattr(vfs(ino));
                    fuse.fuse_reply_xattr(req, CACHE_ANSWER_MAX);
                    return;
                }
                replyBytes(req, cacheControl(vfs(ino), raw), size);
                return;
            }
            String n = xattrNamespaceChecked(raw);
            long inode = vfs(ino);
            XattrKey key = n.startsWith("security.") ? new XattrKey(inode, n) : null;
            if (key != null) {
                Long until = noSecurityXattr.get(key);
                if (until != null && until - System.nanoTime() > 0) {
                    throw new FsException(Errno.ENODATA, n);
                }
            }
            byte[] v;
            try {
                v = volume.getxattr(inode, n);
            } catch (FsException e) {
                if (key != null && e.errno() == Errno.ENODATA) {
                    absentUntilTimeout(key);
                }
                throw e;
            }
            replyBytes(req, v, size);
        });
    }

    /** Remembers a security.* name as absent for the attribute timeout (not at all with a timeout of 0). */
    private void absentUntilTimeout(XattrKey key) {
        if (spec.attrTimeout() > 0) {
            if (noSecurityXattr.size() >= MAX_CACHED) {
                noSecurityXattr.clear();
            }
            noSecurityXattr.put(key, System.nanoTime() + (long) (spec.attrTimeout() * 1e9));
        }
    }

    private void listxattr(Pointer req, long ino, long size) {
        call(req, "listxattr", () -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (String n : volume.listxattr(vfs(ino))) {
                out.writeBytes(n.getBytes(StandardCharsets.UTF_8));
                out.write(0);
            }
            replyBytes(req, out.toByteArray(), size);
        });
    }

    /** getxattr/listxattr: size 0 asks for the length, a smaller buffer is ERANGE. */
    /**
     * The cache's control, as reads of virtual extended attributes of a file (a read, so that it works on a
     * read-only mount with read permission alone, as a warm-up of a released model must): {@code
     * hangar.cache} tells how much of the file the caches hold, {@code hangar.cache.warm} first fetches its
     * missing blocks into them, {@code hangar.cache.evict} first drops them from the disk cache. The value:
     * {@code stored=N disk=N memory=N} in bytes (and {@code group=N} on a member of a cache group), then
     * {@code fetched=N} or {@code dropped=N}.
     * {@code hangar.cache.warm.background} queues the file's warm-up and answers at once, with {@code queued=1}
     * (or 0 if it was queued already). Not stored, not listed (docs/cache.md; {@code hangar warmup} uses it).
     */
    private byte[] cacheControl(long inode, String name) throws FsException {
        String done = "";
        if (name.endsWith(".background")) {
            volume.getattr(inode); // a file that is gone is refused now, not later
            boolean queued = warmQueued.add(inode);
            if (queued) {
                try {
                    backgroundWarm.execute(() -> {
                        warmQueued.remove(inode);
                        try {
                            volume.warm(inode);
                        } catch (FsException | RuntimeException e) {
                            LOG.log(Level.WARNING, "background warm-up of inode " + inode + " failed: " + e.getMessage());
                        }
                    });
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    warmQueued.remove(inode);
                    throw new FsException(Errno.EAGAIN, BACKGROUND_WARM_QUEUE + " files wait for a background warm-up");
                }
            }
            done = " queued=" + (queued ? 1 : 0);
        } else if (name.endsWith(".warm")) {
            done = " fetched=" + volume.warm(inode);
        } else if (name.endsWith(".evict")) {
            done = " dropped=" + volume.evict(inode);
        }
        io.hangar.vfs.CacheState s = volume.cacheState(inode);
        String group = s.groupBytes() < 0 ? "" : " group=" + s.groupBytes();
        return ("stored=" + s.storedBytes() + " disk=" + s.diskBytes() + " memory=" + s.memoryBytes() + group + done)
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    private void replyBytes(Pointer req, byte[] v, long size) throws FsException {
        if (size == 0) {
            fuse.fuse_reply_xattr(req, v.length);
        } else if (size < v.length) {
            throw new FsException(Errno.ERANGE, "buffer of " + size + " bytes for " + v.length);
        } else {
            fuse.fuse_reply_buf(req, v, v.length);
        }
    }

    private void removexattr(Pointer req, long ino, Pointer namePtr) {
        call(req, "removexattr", () -> {
            writable();
            volume.removexattr(caller(req), vfs(ino), xattrNamespaceChecked(string(namePtr)));
            fuse.fuse_reply_err(req, 0);
        });
    }

    // ---- locks ----

    private void getlk(Pointer req, long ino, Pointer fi, Pointer lock) {
        call(req, "getlk", () -> {
            OpenFile f = file(fi);
            long owner = fi.getLong(Layout.FI_LOCK_OWNER);
            long start = lock.getLong(Layout.FL_START);
            long len = lock.getLong(Layout.FL_LEN);
            long end = len == 0 ? LockTable.TO_EOF : start + len - 1;
            boolean write = lock.getShort(Layout.FL_TYPE) == F_WRLCK;
            LockTable.Held h = locks.conflict(f.inode, owner, write, start, end);
            byte[] out = h == null ? Layout.flock((short) F_UNLCK, start, len, 0)
                    : Layout.flock((short) (h.write() ? F_WRLCK : F_RDLCK), h.start(),
                            h.end() == LockTable.TO_EOF ? 0 : h.end() - h.start() + 1, (int) h.pid());
            fuse.fuse_reply_lock(req, out);
        });
    }

    private void setlk(Pointer req, long ino, Pointer fi, Pointer lock, int sleep) {
        call(req, "setlk", () -> {
            OpenFile f = file(fi);
            long owner = fi.getLong(Layout.FI_LOCK_OWNER);
            long start = lock.getLong(Layout.FL_START);
            long len = lock.getLong(Layout.FL_LEN);
            long end = len == 0 ? LockTable.TO_EOF : start + len - 1;
            int type = lock.getShort(Layout.FL_TYPE);
            if (type == F_UNLCK) {
                locks.unlock(f.inode, owner, start, end);
            } else {
                locks.lock(mountId, f.inode, owner, lock.getInt(Layout.FL_PID), type == F_WRLCK, start, end,
                        sleep != 0, interrupted(req));
            }
            fuse.fuse_reply_err(req, 0);
        });
    }

    private void flock(Pointer req, long ino, Pointer fi, int op) {
        call(req, "flock", () -> {
            OpenFile f = file(fi);
            long fh = fi.getLong(Layout.FI_FH);
            if ((op & LOCK_UN) != 0) {
                locks.funlock(f.inode, fh);
            } else {
                locks.flock(f.inode, fh, (op & LOCK_EX) != 0, (op & LOCK_NB) == 0, interrupted(req));
            }
            fuse.fuse_reply_err(req, 0);
        });
    }

    @Override
    public String toString() {
        return "libfuse3 low-level session of " + volume.name() + " at " + spec.mountpoint();
    }
}
