package io.hangar.frontend.fuse;

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
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;
import jnr.ffi.types.dev_t;
import jnr.ffi.types.gid_t;
import jnr.ffi.types.mode_t;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.uid_t;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.Flock;
import ru.serce.jnrfuse.struct.FuseContext;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * The FUSE callbacks of one mount: libfuse 2's high-level (path) API translated onto a {@link Volume}.
 * Errors are the volume's errnos, negated. Operations on open files and directories go by file handle and
 * never by path ({@code flag_nopath}), so an unlinked file stays usable until closed; the volume keeps its
 * data until then.
 *
 * <p>Permissions are the kernel's ({@code default_permissions}): it checks every access against the
 * attributes reported here, including the chmod/chown/utimens rules, before a request arrives.
 */
final class HangarFs extends FuseStubFS implements FuseSession {
    private static final Logger LOG = Logger.getLogger(HangarFs.class.getName());
    /** File handles are unique across every mount in this JVM: BSD locks are keyed by them. */
    private static final AtomicLong NEXT_HANDLE = new AtomicLong(1);
    private static final AtomicInteger NEXT_MOUNT = new AtomicInteger(1);
    private static final int POOLED = 32;
    private static final int MAX_CACHED_AT = 100_000;
    private static final int[] NO_GROUPS = new int[0];

    private static final long UTIME_NOW = (1L << 30) - 1;
    private static final long UTIME_OMIT = (1L << 30) - 2;
    private static final int F_GETLK = 5;
    private static final int F_SETLK = 6;
    private static final int F_SETLKW = 7;
    private static final int LOCK_EX = 2;
    private static final int LOCK_NB = 4;
    private static final int LOCK_UN = 8;
    private static final int SET_ID = 06000;
    /**
     * jnr-fuse maps C bit-fields as one byte each and leaves out fuse_file_info's writepage, which is wrong:
     * these are the real bits and offsets of libfuse 2.9. struct fuse_file_info {int flags; unsigned long
     * fh_old; int writepage; unsigned direct_io:1, keep_cache:1, ...; uint64_t fh; ...}; struct
     * fuse_operations has 38 function pointers, then flag_nullpath_ok:1, flag_nopath:1, flag_utime_omit_ok:1.
     */
    private static final long FI_BITS_OFFSET = 2L * Runtime.getSystemRuntime().addressSize() + 4;
    private static final int FI_KEEP_CACHE = 1 << 1;
    private static final long OPERATION_FLAGS_OFFSET = 38L * Runtime.getSystemRuntime().addressSize();
    private static final byte OPERATION_FLAGS = 0b111;
    private static final long STATFS_BLOCK = 4096;
    /** What statfs reports when the volume has no capacity or inode limit: 1 PiB, 2^32 inodes. */
    private static final long UNLIMITED_BYTES = 1L << 50;
    private static final long UNLIMITED_INODES = 1L << 32;

    private record OpenFile(long inode, FileHandle handle) {
    }

    private record Directory(DirStream stream, long parent) {
    }

    private final Volume volume;
    private final PathResolver paths;
    private final boolean readOnly;
    private final LockTable locks;
    private final LibFuseExtras extras;
    private final Map<Long, OpenFile> files = new ConcurrentHashMap<>();
    private final Map<Long, Directory> dirs = new ConcurrentHashMap<>();
    /**
     * inode -> {mtime, length} when this mount last opened it: the kernel may keep its cached pages on the
     * next open only if neither changed since (and nothing was written here, which drops the entry). At
     * most {@value #MAX_CACHED_AT} inodes are remembered; forgetting only costs a page cache refill.
     */
    private final Map<Long, long[]> cachedAt = new ConcurrentHashMap<>();
    private final CompletableFuture<Void> initialized = new CompletableFuture<>();
    /**
     * Transfer buffers for read and write, pooled rather than per thread: jffi attaches libfuse's threads to
     * the JVM anew for most callbacks (each is a new Java thread), so thread-locals would be allocated per
     * request. Requests are at most 128 KiB; the pool holds at most {@value #POOLED} of them.
     */
    private final ArrayBlockingQueue<byte[]> buffers = new ArrayBlockingQueue<>(POOLED);
    /** Tags this mount's POSIX locks in the volume's shared table, so that its end drops exactly them. */
    private final int mountId = NEXT_MOUNT.getAndIncrement();
    private volatile boolean stopping;

    private final MountSpec spec;
    private final boolean asRoot;

    HangarFs(Volume volume, long root, MountSpec spec, boolean asRoot) {
        this.spec = spec;
        this.asRoot = asRoot;
        this.volume = volume;
        this.paths = new PathResolver(volume, root, spec.entryTimeout());
        this.readOnly = spec.readOnly();
        this.locks = LockTable.of(volume);
        this.extras = LibFuseExtras.load();
        Struct.getMemory(fuseOperations).putByte(OPERATION_FLAGS_OFFSET, OPERATION_FLAGS);
    }

    @Override
    public int serve() {
        return run(spec.fuseArguments(volume.name(), asRoot));
    }

    /** Runs libfuse's mount and multi-threaded loop on this thread until the file system is unmounted. */
    int run(List<String> args) {
        String[] argv = args.toArray(String[]::new);
        return libFuse.fuse_main_real(argv.length, argv, fuseOperations, Struct.size(fuseOperations), null);
    }

    @Override
    public CompletableFuture<Void> initialized() {
        return initialized;
    }

    @Override
    public void stopping() {
        stopping = true;
    }

    /**
     * Closes what the kernel left open (their buffered writes are committed) and drops this mount's locks;
     * returns the first failure to commit, if any.
     */
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
        return first;
    }

    // ---- plumbing ----

    @FunctionalInterface
    private interface Op {
        int run() throws FsException, Errnos.LockFailure, InterruptedException;
    }

    private int call(String what, Op op) {
        try {
            return op.run();
        } catch (FsException e) {
            if (e.errno() == Errno.EIO) {
                LOG.log(Level.WARNING, "volume " + volume.name() + ": " + what + ": " + e.getMessage());
            }
            return Errnos.negative(e);
        } catch (Errnos.LockFailure e) {
            return -e.errno;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -Errnos.EINTR;
        } catch (RuntimeException | Error e) {
            // Anything escaping a callback would be cleared by jffi and read by libfuse as success.
            LOG.log(Level.SEVERE, "volume " + volume.name() + ": " + what + " failed unexpectedly", e);
            return -Errno.EIO.value();
        }
    }

    private void writable() throws FsException {
        if (readOnly) {
            throw new FsException(Errno.EROFS, "mounted read-only");
        }
    }

    private Caller caller() {
        FuseContext c = getContext();
        return new Caller(c.uid.intValue(), c.gid.intValue(), NO_GROUPS, c.pid.longValue());
    }

    /** The caller with its supplementary groups, for the rules that need them (chgrp). */
    private Caller callerWithGroups() {
        Caller c = caller();
        int[] groups = new int[64];
        int n = extras.fuse_getgroups(groups.length, groups);
        if (n > groups.length) {
            groups = new int[n];
            n = extras.fuse_getgroups(groups.length, groups);
        }
        return n <= 0 ? c : new Caller(c.uid(), c.gid(), Arrays.copyOf(groups, n), c.pid());
    }

    private boolean interrupted() {
        return stopping || extras.fuse_interrupted() != 0;
    }

    private boolean isOpen(long inode) {
        for (OpenFile f : files.values()) {
            if (f.inode == inode) {
                return true;
            }
        }
        return false;
    }

    private OpenFile file(FuseFileInfo fi) throws FsException {
        OpenFile f = files.get(fi.fh.get());
        if (f == null) {
            throw new FsException(Errno.EBADF, "unknown file handle " + fi.fh.get());
        }
        return f;
    }

    private long newHandle(FuseFileInfo fi) {
        long fh = NEXT_HANDLE.getAndIncrement();
        fi.fh.set(fh);
        return fh;
    }

    private static void setBits(Struct s, long offset, int bits) {
        Pointer p = Struct.getMemory(s);
        p.putInt(offset, p.getInt(offset) | bits);
    }

    private static void fill(FileStat st, Attr a) {
        st.st_ino.set(a.inode());
        st.st_mode.set(a.stMode());
        st.st_nlink.set(a.nlink());
        st.st_uid.set(a.uid());
        st.st_gid.set(a.gid());
        st.st_rdev.set(a.rdev());
        st.st_size.set(a.length());
        st.st_blksize.set(MountSpec.MAX_WRITE);
        st.st_blocks.set((a.length() + 511) / 512);
        time(st.st_atim, a.atimeNs());
        time(st.st_mtim, a.mtimeNs());
        time(st.st_ctim, a.ctimeNs());
    }

    private static void time(Timespec t, long ns) {
        t.tv_sec.set(Math.floorDiv(ns, 1_000_000_000L));
        t.tv_nsec.set(Math.floorMod(ns, 1_000_000_000L));
    }

    /** A utimens time: null for UTIME_OMIT (leave it), {@link SetAttr#NOW} for UTIME_NOW. */
    private static Long time(Timespec t) {
        long nsec = t.tv_nsec.longValue();
        if (nsec == UTIME_OMIT) {
            return null;
        }
        if (nsec == UTIME_NOW) {
            return SetAttr.NOW;
        }
        return t.tv_sec.get() * 1_000_000_000L + nsec;
    }

    private static String xattrNamespaceChecked(String name) throws FsException {
        // Only these namespaces are stored; system.* (ACLs) is never kept, and the kernel answers
        // system.posix_acl_* itself since this mount does not claim ACL support.
        if (name.startsWith("user.") || name.startsWith("trusted.") || name.startsWith("security.")) {
            return name;
        }
        throw new FsException(Errno.EOPNOTSUPP, "extended attribute namespace of '" + name + "' not supported");
    }

    // ---- lifecycle ----

    @Override
    public Pointer init(Pointer conn) {
        initialized.complete(null);
        return null;
    }

    // ---- attributes ----

    @Override
    public int getattr(String path, FileStat stat) {
        return call("getattr", () -> {
            fill(stat, paths.entry(path).attr());
            return 0;
        });
    }

    @Override
    public int fgetattr(String path, FileStat stat, FuseFileInfo fi) {
        return call("fgetattr", () -> {
            fill(stat, volume.getattr(file(fi).inode));
            return 0;
        });
    }

    @Override
    public int chmod(String path, @mode_t long mode) {
        return call("chmod", () -> {
            writable();
            long inode = paths.inode(path);
            int m = (int) mode & 07777;
            try {
                volume.setattr(caller(), inode, SetAttr.mode(m));
            } catch (FsException e) {
                Attr a = volume.getattr(inode);
                boolean onlyDropsSetId = (m | (a.mode() & SET_ID)) == a.mode() && m != a.mode();
                if (e.errno() != Errno.EPERM || !onlyDropsSetId) {
                    throw e;
                }
                // The kernel clearing set-id bits after a write or truncate by someone else (it checked
                // the caller already); that is no chmod of the caller's.
                volume.setattr(Caller.ROOT, inode, SetAttr.mode(m));
            }
            return 0;
        });
    }

    @Override
    public int chown(String path, @uid_t long uid, @gid_t long gid) {
        return call("chown", () -> {
            writable();
            Integer u = (int) uid == -1 ? null : (int) uid;
            Integer g = (int) gid == -1 ? null : (int) gid;
            volume.setattr(callerWithGroups(), paths.inode(path), SetAttr.owner(u, g));
            return 0;
        });
    }

    @Override
    public int truncate(String path, @off_t long size) {
        return call("truncate", () -> {
            writable();
            long inode = paths.inode(path);
            cachedAt.remove(inode);
            volume.setattr(caller(), inode, SetAttr.size(size));
            return 0;
        });
    }

    @Override
    public int ftruncate(String path, @off_t long size, FuseFileInfo fi) {
        return call("ftruncate", () -> {
            writable();
            OpenFile f = file(fi);
            cachedAt.remove(f.inode);
            volume.setattr(caller(), f.inode, SetAttr.size(size));
            return 0;
        });
    }

    @Override
    public int utimens(String path, Timespec[] timespec) {
        return call("utimens", () -> {
            writable();
            volume.setattr(caller(), paths.inode(path), SetAttr.times(time(timespec[0]), time(timespec[1])));
            return 0;
        });
    }

    @Override
    public int statfs(String path, Statvfs st) {
        return call("statfs", () -> {
            StatFs s = volume.statfs();
            long capacity = s.capacityBytes() > 0 ? s.capacityBytes() : UNLIMITED_BYTES + s.usedBytes();
            long blocks = capacity / STATFS_BLOCK;
            long free = Math.max(0, blocks - (s.usedBytes() + STATFS_BLOCK - 1) / STATFS_BLOCK);
            long files = s.inodeLimit() > 0 ? s.inodeLimit() : UNLIMITED_INODES + s.usedInodes();
            long freeFiles = Math.max(0, files - s.usedInodes());
            st.f_bsize.set(STATFS_BLOCK);
            st.f_frsize.set(STATFS_BLOCK);
            st.f_blocks.set(blocks);
            st.f_bfree.set(free);
            st.f_bavail.set(free);
            st.f_files.set(files);
            st.f_ffree.set(freeFiles);
            st.f_favail.set(freeFiles);
            st.f_namemax.set(255);
            return 0;
        });
    }

    // ---- namespace ----

    @Override
    public int readlink(String path, Pointer buf, @size_t long size) {
        return call("readlink", () -> {
            byte[] target = volume.readlink(paths.inode(path)).getBytes(StandardCharsets.UTF_8);
            int n = (int) Math.min(target.length, size - 1);
            buf.put(0, target, 0, n);
            buf.putByte(n, (byte) 0);
            return 0;
        });
    }

    @Override
    public int mknod(String path, @mode_t long mode, @dev_t long rdev) {
        return call("mknod", () -> {
            writable();
            FileType type;
            try {
                type = FileType.fromMode((int) mode);
            } catch (IllegalArgumentException e) {
                throw new FsException(Errno.EINVAL, e.getMessage());
            }
            if (type == FileType.DIRECTORY || type == FileType.SYMLINK) {
                throw new FsException(Errno.EINVAL, "mknod cannot make a " + type);
            }
            volume.mknod(caller(), paths.parent(path), PathResolver.name(path), type, (int) mode & 07777,
                    (int) rdev);
            return 0;
        });
    }

    @Override
    public int mkdir(String path, @mode_t long mode) {
        return call("mkdir", () -> {
            writable();
            volume.mkdir(caller(), paths.parent(path), PathResolver.name(path), (int) mode & 07777);
            return 0;
        });
    }

    @Override
    public int unlink(String path) {
        return call("unlink", () -> {
            writable();
            volume.unlink(caller(), paths.parent(path), PathResolver.name(path));
            return 0;
        });
    }

    @Override
    public int rmdir(String path) {
        return call("rmdir", () -> {
            writable();
            volume.rmdir(caller(), paths.parent(path), PathResolver.name(path));
            paths.forget(path);
            return 0;
        });
    }

    @Override
    public int symlink(String target, String linkPath) {
        return call("symlink", () -> {
            writable();
            volume.symlink(caller(), paths.parent(linkPath), PathResolver.name(linkPath), target);
            return 0;
        });
    }

    @Override
    public int rename(String from, String to) {
        return call("rename", () -> {
            writable();
            String toName = PathResolver.name(to);
            if (PathResolver.hiddenName(toName)) {
                // libfuse hiding a file it believes open, instead of unlinking or replacing it: unlink it
                // for real, so no .fuse_hidden file ever shows in the volume, and keep the name for fstat and
                // friends while it is open. If its release raced ahead of this rename, libfuse will not
                // unlink the hidden name later: the plain unlink is then all that was wanted.
                long inode = paths.inode(from);
                volume.unlink(caller(), paths.parent(from), PathResolver.name(from));
                synchronized (files) {
                    if (isOpen(inode)) {
                        paths.hide(toName, inode);
                    }
                }
                return 0;
            }
            // libfuse 2's high-level API carries no renameat2 flags; the kernel refuses them before we
            // would see them (see docs/frontend-fuse.md).
            volume.rename(caller(), paths.parent(from), PathResolver.name(from), paths.parent(to),
                    PathResolver.name(to), 0);
            paths.forget(from);
            paths.forget(to);
            return 0;
        });
    }

    @Override
    public int link(String existing, String newPath) {
        return call("link", () -> {
            writable();
            volume.link(caller(), paths.inode(existing), paths.parent(newPath), PathResolver.name(newPath));
            return 0;
        });
    }

    // ---- files ----

    private static int openFlags(FuseFileInfo fi) {
        return fi.flags.get() & (OpenFlags.ACCMODE | OpenFlags.APPEND | OpenFlags.TRUNC | OpenFlags.EXCL);
    }

    @Override
    public int create(String path, @mode_t long mode, FuseFileInfo fi) {
        return call("create", () -> {
            writable();
            FileHandle h = volume.create(caller(), paths.parent(path), PathResolver.name(path), (int) mode & 07777,
                    openFlags(fi) | OpenFlags.CREAT);
            files.put(newHandle(fi), new OpenFile(h.inode(), h));
            return 0;
        });
    }

    @Override
    public int open(String path, FuseFileInfo fi) {
        return call("open", () -> {
            int flags = openFlags(fi);
            if (OpenFlags.writable(flags) || (flags & OpenFlags.TRUNC) != 0) {
                writable();
            }
            long inode = paths.inode(path);
            FileHandle h = volume.open(caller(), inode, flags);
            try {
                Attr a = volume.getattr(inode);
                long[] now = {a.mtimeNs(), a.length()};
                if (cachedAt.size() >= MAX_CACHED_AT) {
                    cachedAt.clear();
                }
                long[] before = cachedAt.put(inode, now);
                if (before != null && before[0] == now[0] && before[1] == now[1]) {
                    setBits(fi, FI_BITS_OFFSET, FI_KEEP_CACHE);
                }
            } catch (FsException | RuntimeException e) {
                h.close();
                throw e;
            }
            files.put(newHandle(fi), new OpenFile(inode, h));
            return 0;
        });
    }

    @Override
    public int read(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        return call("read", () -> {
            OpenFile f = file(fi);
            byte[] b = borrow((int) size);
            try {
                int total = 0;
                while (total < size) {
                    int n = f.handle.read(offset + total, b, total, (int) size - total);
                    if (n <= 0) {
                        break;
                    }
                    total += n;
                }
                buf.put(0, b, 0, total);
                return total;
            } finally {
                giveBack(b);
            }
        });
    }

    @Override
    public int write(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        return call("write", () -> {
            writable();
            OpenFile f = file(fi);
            byte[] b = borrow((int) size);
            try {
                buf.get(0, b, 0, (int) size);
                cachedAt.remove(f.inode);
                f.handle.write(offset, b, 0, (int) size);
                return (int) size;
            } finally {
                giveBack(b);
            }
        });
    }

    private byte[] borrow(int size) {
        byte[] b = size <= MountSpec.MAX_WRITE ? buffers.poll() : null;
        return b != null ? b : new byte[Math.max(size, MountSpec.MAX_WRITE)];
    }

    private void giveBack(byte[] b) {
        if (b.length == MountSpec.MAX_WRITE) {
            buffers.offer(b);
        }
    }

    @Override
    public int flush(String path, FuseFileInfo fi) {
        return call("flush", () -> {
            file(fi).handle.flush();
            return 0;
        });
    }

    @Override
    public int fsync(String path, int isdatasync, FuseFileInfo fi) {
        return call("fsync", () -> {
            file(fi).handle.fsync();
            return 0;
        });
    }

    @Override
    public int release(String path, FuseFileInfo fi) {
        return call("release", () -> {
            long fh = fi.fh.get();
            OpenFile f;
            // Under the lock a rename that hides the file sees it open, or its hidden name is dropped here.
            synchronized (files) {
                f = files.remove(fh);
                if (f == null) {
                    return 0;
                }
                if (paths.hasHidden() && !isOpen(f.inode)) {
                    paths.unhide(f.inode);
                }
            }
            // BSD locks belong to the open file (its handle): its release drops them.
            locks.funlock(f.inode, fh);
            f.handle.close();
            return 0;
        });
    }

    // ---- directories ----

    @Override
    public int opendir(String path, FuseFileInfo fi) {
        return call("opendir", () -> {
            Entry e = paths.entry(path);
            if (!e.attr().isDirectory()) {
                throw new FsException(Errno.ENOTDIR, path + " is not a directory");
            }
            // The mount's root shows itself as its parent: nothing above it is reachable.
            long parent = path.equals("/") ? e.inode() : e.attr().parent();
            dirs.put(newHandle(fi), new Directory(new DirStream(volume, e.inode()), parent));
            return 0;
        });
    }

    /**
     * Offsets: "." is 0, ".." 1, the stream's entry i is i + 2; each entry is handed over with the offset of
     * the one after it, as libfuse's offset mode expects, so the kernel resumes exactly there.
     */
    @Override
    public int readdir(String path, Pointer buf, FuseFillDir filler, @off_t long offset, FuseFileInfo fi) {
        return call("readdir", () -> {
            Directory d = dirs.get(fi.fh.get());
            if (d == null) {
                throw new FsException(Errno.EBADF, "unknown directory handle " + fi.fh.get());
            }
            Runtime rt = Runtime.getSystemRuntime();
            FileStat st = FileStat.of(Memory.allocateDirect(rt, Struct.size(new FileStat(rt)), true));
            ByteBuffer name = ByteBuffer.allocateDirect(4 * 1024 + 1);
            for (long pos = offset;; pos++) {
                String n;
                long inode;
                FileType type;
                if (pos == 0) {
                    n = ".";
                    inode = d.stream.inode();
                    type = FileType.DIRECTORY;
                } else if (pos == 1) {
                    n = "..";
                    inode = d.parent;
                    type = FileType.DIRECTORY;
                } else {
                    DirEntry e = d.stream.get(pos - 2);
                    if (e == null) {
                        return 0;
                    }
                    n = e.name();
                    inode = e.inode();
                    type = e.type();
                }
                byte[] bytes = n.getBytes(StandardCharsets.UTF_8);
                name.clear();
                name.put(bytes).put((byte) 0).flip();
                st.st_ino.set(inode);
                st.st_mode.set(type.modeBits());
                if (filler.apply(buf, name, Struct.getMemory(st), pos + 1) != 0) {
                    return 0;
                }
            }
        });
    }

    @Override
    public int releasedir(String path, FuseFileInfo fi) {
        dirs.remove(fi.fh.get());
        return 0;
    }

    // ---- extended attributes ----

    @Override
    public int setxattr(String path, String name, Pointer value, @size_t long size, int flags) {
        return call("setxattr", () -> {
            writable();
            byte[] v = new byte[(int) size];
            value.get(0, v, 0, v.length);
            volume.setxattr(caller(), paths.inode(path), xattrNamespaceChecked(name), v, flags);
            return 0;
        });
    }

    @Override
    public int getxattr(String path, String name, Pointer value, @size_t long size) {
        return call("getxattr", () -> {
            byte[] v = volume.getxattr(paths.inode(path), xattrNamespaceChecked(name));
            return copyOut(v, value, size);
        });
    }

    @Override
    public int listxattr(String path, Pointer list, @size_t long size) {
        return call("listxattr", () -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (String n : volume.listxattr(paths.inode(path))) {
                out.writeBytes(n.getBytes(StandardCharsets.UTF_8));
                out.write(0);
            }
            return copyOut(out.toByteArray(), list, size);
        });
    }

    /** getxattr/listxattr convention: size 0 asks for the length, a smaller buffer is ERANGE. */
    private static int copyOut(byte[] v, Pointer to, long size) throws FsException {
        if (size == 0) {
            return v.length;
        }
        if (size < v.length) {
            throw new FsException(Errno.ERANGE, "buffer of " + size + " bytes for " + v.length);
        }
        to.put(0, v, 0, v.length);
        return v.length;
    }

    @Override
    public int removexattr(String path, String name) {
        return call("removexattr", () -> {
            writable();
            volume.removexattr(caller(), paths.inode(path), xattrNamespaceChecked(name));
            return 0;
        });
    }

    // ---- locks ----

    @Override
    public int lock(String path, FuseFileInfo fi, int cmd, Flock flock) {
        return call("lock", () -> {
            OpenFile f = file(fi);
            long owner = fi.lock_owner.get();
            long start = flock.l_start.get();
            long len = flock.l_len.get();
            long end = len == 0 ? LockTable.TO_EOF : start + len - 1;
            int type = flock.l_type.get();
            boolean write = type == Flock.F_WRLCK;
            switch (cmd) {
                case F_GETLK -> {
                    LockTable.Held h = locks.conflict(f.inode, owner, write, start, end);
                    if (h == null) {
                        flock.l_type.set(Flock.F_UNLCK);
                    } else {
                        flock.l_type.set(h.write() ? Flock.F_WRLCK : Flock.F_RDLCK);
                        flock.l_whence.set(0);
                        flock.l_start.set(h.start());
                        flock.l_len.set(h.end() == LockTable.TO_EOF ? 0 : h.end() - h.start() + 1);
                        flock.l_pid.set(h.pid());
                    }
                }
                case F_SETLK, F_SETLKW -> {
                    if (type == Flock.F_UNLCK) {
                        locks.unlock(f.inode, owner, start, end);
                    } else {
                        locks.lock(mountId, f.inode, owner, flock.l_pid.get(), write, start, end, cmd == F_SETLKW,
                                this::interrupted);
                    }
                }
                default -> throw new FsException(Errno.EINVAL, "lock command " + cmd);
            }
            return 0;
        });
    }

    @Override
    public int flock(String path, FuseFileInfo fi, int op) {
        return call("flock", () -> {
            OpenFile f = file(fi);
            long fh = fi.fh.get();
            if ((op & LOCK_UN) != 0) {
                locks.funlock(f.inode, fh);
            } else {
                locks.flock(f.inode, fh, (op & LOCK_EX) != 0, (op & LOCK_NB) == 0, this::interrupted);
            }
            return 0;
        });
    }
}
