package io.hangar.frontend.fuse.lowlevel;

import io.hangar.frontend.fuse.SharedLibraries;
import io.hangar.frontend.fuse.setup.FuseSetup;
import java.nio.file.Path;
import java.util.Optional;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.Delegate;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;

/**
 * The part of libfuse 3's low-level API (fuse_lowlevel.h, libfuse 3.12 and later) this frontend calls, bound
 * with jnr-ffi, and the callback types of {@code struct fuse_lowlevel_ops}. Structs the replies take
 * ({@code struct stat}, {@code fuse_entry_param}, {@code statvfs}, {@code flock}) are passed as byte arrays
 * laid out by {@link Layout}; {@code fuse_file_info} and {@code fuse_conn_info} are read and written in
 * place through the pointers libfuse hands over. Public only for jnr-ffi's generated code.
 */
public interface Fuse3 {
    String NAME = FuseSetup.LIBRARY;

    // ---- session ----
    Pointer fuse_session_new(Pointer args, Pointer ops, long opSize, Pointer userdata);

    int fuse_session_mount(Pointer se, String mountpoint);

    /** The versioned multi-threaded loop (FUSE_3.12) taking an opaque loop configuration. */
    int fuse_session_loop_mt_312(Pointer se, Pointer config);

    void fuse_session_exit(Pointer se);

    void fuse_session_unmount(Pointer se);

    void fuse_session_destroy(Pointer se);

    Pointer fuse_loop_cfg_create();

    void fuse_loop_cfg_destroy(Pointer config);

    void fuse_loop_cfg_set_idle_threads(Pointer config, int value);

    int fuse_loop_cfg_set_max_threads(Pointer config, int value);

    // ---- about the request ----
    Pointer fuse_req_ctx(Pointer req);

    int fuse_req_getgroups(Pointer req, int size, @Out int[] list);

    int fuse_req_interrupted(Pointer req);

    // ---- replies (each returns 0 or a negative errno; the request is freed either way) ----
    int fuse_reply_err(Pointer req, int err);

    void fuse_reply_none(Pointer req);

    int fuse_reply_entry(Pointer req, @In byte[] entryParam);

    int fuse_reply_create(Pointer req, @In byte[] entryParam, Pointer fi);

    int fuse_reply_attr(Pointer req, @In byte[] stat, double attrTimeout);

    int fuse_reply_readlink(Pointer req, @In byte[] link);

    int fuse_reply_open(Pointer req, Pointer fi);

    int fuse_reply_write(Pointer req, long count);

    int fuse_reply_buf(Pointer req, @In byte[] buf, long size);

    int fuse_reply_statfs(Pointer req, @In byte[] statvfs);

    int fuse_reply_xattr(Pointer req, long count);

    int fuse_reply_lock(Pointer req, @In byte[] flock);

    int fuse_reply_lseek(Pointer req, long off);

    /** The same symbols with native buffers (a second binding: one name, one signature per interface). */
    interface Native {
        int fuse_reply_buf(Pointer req, Pointer buf, long size);

        long fuse_add_direntry(Pointer req, Pointer buf, long bufsize, @In byte[] name, @In byte[] stat, long off);

        long fuse_add_direntry_plus(Pointer req, Pointer buf, long bufsize, @In byte[] name, @In byte[] entryParam,
                long off);
    }

    // ---- struct fuse_lowlevel_ops: the callbacks, in the struct's order (index = slot) ----
    int OPS = 44;
    int INIT = 0, DESTROY = 1, LOOKUP = 2, FORGET = 3, GETATTR = 4, SETATTR = 5, READLINK = 6, MKNOD = 7,
            MKDIR = 8, UNLINK = 9, RMDIR = 10, SYMLINK = 11, RENAME = 12, LINK = 13, OPEN = 14, READ = 15,
            WRITE = 16, FLUSH = 17, RELEASE = 18, FSYNC = 19, OPENDIR = 20, READDIR = 21, RELEASEDIR = 22,
            FSYNCDIR = 23, STATFS = 24, SETXATTR = 25, GETXATTR = 26, LISTXATTR = 27, REMOVEXATTR = 28,
            ACCESS = 29, CREATE = 30, GETLK = 31, SETLK = 32, BMAP = 33, IOCTL = 34, POLL = 35, WRITE_BUF = 36,
            RETRIEVE_REPLY = 37, FORGET_MULTI = 38, FLOCK = 39, FALLOCATE = 40, READDIRPLUS = 41,
            COPY_FILE_RANGE = 42, LSEEK = 43;

    interface InitCb {
        @Delegate
        void call(Pointer userdata, Pointer conn);
    }

    interface DestroyCb {
        @Delegate
        void call(Pointer userdata);
    }

    /** lookup, unlink, rmdir, readlink-less (req, parent, name) operations. */
    interface NameCb {
        @Delegate
        void call(Pointer req, long parent, Pointer name);
    }

    interface ForgetCb {
        @Delegate
        void call(Pointer req, long ino, long nlookup);
    }

    interface ForgetMultiCb {
        @Delegate
        void call(Pointer req, long count, Pointer forgets);
    }

    /** getattr, open, flush, release, opendir, releasedir: (req, ino, fi). */
    interface InoFiCb {
        @Delegate
        void call(Pointer req, long ino, Pointer fi);
    }

    interface SetattrCb {
        @Delegate
        void call(Pointer req, long ino, Pointer stat, int toSet, Pointer fi);
    }

    /** readlink, statfs: (req, ino). */
    interface InoCb {
        @Delegate
        void call(Pointer req, long ino);
    }

    interface MknodCb {
        @Delegate
        void call(Pointer req, long parent, Pointer name, int mode, long rdev);
    }

    interface MkdirCb {
        @Delegate
        void call(Pointer req, long parent, Pointer name, int mode);
    }

    interface SymlinkCb {
        @Delegate
        void call(Pointer req, Pointer link, long parent, Pointer name);
    }

    interface RenameCb {
        @Delegate
        void call(Pointer req, long parent, Pointer name, long newParent, Pointer newName, int flags);
    }

    interface LinkCb {
        @Delegate
        void call(Pointer req, long ino, long newParent, Pointer newName);
    }

    /** read, readdir, readdirplus: (req, ino, size, off, fi). */
    interface ReadCb {
        @Delegate
        void call(Pointer req, long ino, long size, long off, Pointer fi);
    }

    interface WriteCb {
        @Delegate
        void call(Pointer req, long ino, Pointer buf, long size, long off, Pointer fi);
    }

    /** fsync, fsyncdir: (req, ino, datasync, fi). */
    interface FsyncCb {
        @Delegate
        void call(Pointer req, long ino, int datasync, Pointer fi);
    }

    interface SetxattrCb {
        @Delegate
        void call(Pointer req, long ino, Pointer name, Pointer value, long size, int flags);
    }

    interface GetxattrCb {
        @Delegate
        void call(Pointer req, long ino, Pointer name, long size);
    }

    interface ListxattrCb {
        @Delegate
        void call(Pointer req, long ino, long size);
    }

    interface RemovexattrCb {
        @Delegate
        void call(Pointer req, long ino, Pointer name);
    }

    interface CreateCb {
        @Delegate
        void call(Pointer req, long parent, Pointer name, int mode, Pointer fi);
    }

    interface GetlkCb {
        @Delegate
        void call(Pointer req, long ino, Pointer fi, Pointer lock);
    }

    interface SetlkCb {
        @Delegate
        void call(Pointer req, long ino, Pointer fi, Pointer lock, int sleep);
    }

    interface FlockCb {
        @Delegate
        void call(Pointer req, long ino, Pointer fi, int op);
    }

    interface FallocateCb {
        @Delegate
        void call(Pointer req, long ino, int mode, long offset, long length, Pointer fi);
    }

    interface CopyFileRangeCb {
        @Delegate
        void call(Pointer req, long inoIn, long offIn, Pointer fiIn, long inoOut, long offOut, Pointer fiOut,
                long len, int flags);
    }

    interface LseekCb {
        @Delegate
        void call(Pointer req, long ino, long off, int whence, Pointer fi);
    }

    // ---- loading ----

    /** Both bindings of one loaded libfuse3. */
    record Lib(Fuse3 fuse, Native nat, Path path) {
    }

    static Lib load() {
        Path p = find().orElseThrow(() -> new UnsatisfiedLinkError(NAME + " is neither in the loader's cache "
                + "(ldconfig -p) nor in a library directory (Debian, as root: " + FuseSetup.INSTALL_COMMAND + ")"));
        String s = p.toString();
        return new Lib(LibraryLoader.create(Fuse3.class).failImmediately().load(s),
                LibraryLoader.create(Native.class).failImmediately().load(s), p);
    }

    /** Where libfuse3.so.3 is on this machine, whatever its architecture ({@link SharedLibraries}). */
    static Optional<Path> find() {
        return SharedLibraries.find(NAME);
    }
}
