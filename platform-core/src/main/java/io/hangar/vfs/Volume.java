package io.hangar.vfs;

import io.hangar.fs.Attr;
import io.hangar.fs.Caller;
import io.hangar.fs.DirEntry;
import io.hangar.fs.Entry;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.fs.SetAttr;
import io.hangar.fs.StatFs;
import io.hangar.spi.meta.VolumeFormat;
import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A mounted volume: the POSIX file system that frontends (FUSE, HTTP, the CLI) serve. Files are stored as
 * 64 MiB chunks of slices of immutable blocks in the volume's chunk store; the namespace lives in its
 * metadata engine. Errors carry POSIX errnos. Permission checks are left to the frontend; the caller's
 * credentials own what it creates. Extended attribute names starting with {@code hangar.} are reserved for
 * the volume itself: setting or removing them fails with EPERM, getting them with ENODATA, and they are not
 * listed.
 */
@ProviderType
public interface Volume {
    long ROOT = 1;

    String name();

    VolumeFormat format();

    /** False while the chunk store or metadata engine behind this volume is gone; I/O then waits or fails. */
    boolean available();

    /** A one-line state for operators: "ok", or why the volume is unavailable. */
    String state();

    Entry lookup(long parent, String name) throws FsException;

    /** Resolves a '/'-separated path from the root; symlinks are not followed. */
    Entry resolve(String path) throws FsException;

    Attr getattr(long inode) throws FsException;

    /** Changes attributes; a size truncates (and commits the handles' buffered writes first). */
    Attr setattr(Caller caller, long inode, SetAttr change) throws FsException;

    Entry mknod(Caller caller, long parent, String name, FileType type, int mode, int rdev) throws FsException;

    Entry mkdir(Caller caller, long parent, String name, int mode) throws FsException;

    Entry symlink(Caller caller, long parent, String name, String target) throws FsException;

    String readlink(long inode) throws FsException;

    void unlink(Caller caller, long parent, String name) throws FsException;

    void rmdir(Caller caller, long parent, String name) throws FsException;

    void rename(Caller caller, long srcParent, String srcName, long dstParent, String dstName, int flags)
            throws FsException;

    Entry link(Caller caller, long inode, long newParent, String newName) throws FsException;

    List<DirEntry> readdir(long inode, String after, int limit, boolean withAttributes) throws FsException;

    byte[] getxattr(long inode, String name) throws FsException;

    void setxattr(Caller caller, long inode, String name, byte[] value, int flags) throws FsException;

    List<String> listxattr(long inode) throws FsException;

    void removexattr(Caller caller, long inode, String name) throws FsException;

    StatFs statfs() throws FsException;

    /**
     * Creates and opens a regular file ({@code flags} as open(2), O_EXCL honoured). The new name is durable
     * once the handle is flushed, fsynced or closed, or the directory {@link #syncDirectory synced}: as on a
     * local file system, a power cut before then may lose it (a killed process does not).
     */
    FileHandle create(Caller caller, long parent, String name, int mode, int flags) throws FsException;

    /**
     * fsync(2) of a directory: its entries are durable when this returns, among them files created since
     * and not yet closed. ENOTDIR for a non-directory. Since 1.7.
     */
    void syncDirectory(long inode) throws FsException;

    /** Opens a regular file; O_TRUNC truncates, O_APPEND appends. EISDIR for a directory. */
    FileHandle open(Caller caller, long inode, int flags) throws FsException;

    /** Metadata-only copy of a file or tree (no data copied); buffered writes are committed first. */
    Entry clone(Caller caller, long srcInode, long dstParent, String dstName) throws FsException;

    /**
     * Makes bytes {@code [dstOff, dstOff+n)} of regular file {@code dstInode} read as bytes
     * {@code [srcOff, srcOff+n)} of {@code srcInode} without copying data (the ranges share slices), where
     * {@code n} is {@code len} cut at the end of the source; returns {@code n} (0 at or past the end). Both
     * files' buffered writes on this volume are committed first. The destination grows to the end of the
     * range if it was shorter. EINVAL for negative numbers and for overlapping ranges of one file, EFBIG past
     * the largest file, EISDIR for a directory; EOPNOTSUPP if the metadata engine cannot share ranges
     * (older than SPI 1.2): the caller then copies the bytes. Since 1.2.
     */
    long copyRange(Caller caller, long srcInode, long srcOff, long dstInode, long dstOff, long len)
            throws FsException;

    /**
     * Makes bytes {@code [offset, offset+length)} of a regular file read as zeros, as hole records (no data
     * written): fallocate's PUNCH_HOLE with KEEP_SIZE, and ZERO_RANGE. With {@code keepSize} the length
     * stays (the range is cut at the end of the file); without, the file grows to the end of the range.
     * Buffered writes of the file on this volume are committed first. EINVAL for a negative offset or a
     * length of 0 or less, EFBIG past the largest file, EISDIR for a directory. Returns the attributes after
     * the change. Since 1.2.
     */
    Attr zeroRange(Caller caller, long inode, long offset, long length, boolean keepSize) throws FsException;

    /**
     * How long, in milliseconds, a volume may still accept a change to a node after another client (another
     * process, or another volume object on the same metadata) froze it: a "not frozen" answer is remembered
     * at most this long. A freeze by this volume object itself takes effect here at once. Since 1.3.
     */
    long FROZEN_RECHECK_MS = 1000;

    /**
     * Freezes {@code inode} and, if it is a directory, every node below it: from then on every change through
     * any volume on this metadata (attributes, names in and of it, xattrs, data, also through handles opened
     * for writing before) fails with EPERM; reads go on. A frozen node stays frozen; a {@link #clone} of a
     * frozen tree is not frozen. Idempotent; O(nodes) engine calls, walking directories a page at a time
     * (memory bounded by the depth of the tree). EPERM unless {@code caller} is root.
     *
     * <p>Other clients (other processes, other volume objects on the same metadata) may accept changes to the
     * tree for up to {@link #FROZEN_RECHECK_MS} after this returns, and nodes made below it by such a client
     * during that time may escape the walk: a caller that must be sure the tree is final waits that long
     * after freezing before it reads the tree as final (and may freeze again to catch such nodes), unless
     * {@link #soleClient} says there are no other clients. Since 1.3.
     */
    void freeze(Caller caller, long inode) throws FsException;

    /**
     * Whether this volume object is the only client of its metadata: no other process or volume object has a
     * session open (one that died counts until it is cleaned up). Asked after a {@link #freeze}, true means no
     * other client can hold an answer from before it, so the tree is final at once: a client that connects
     * later reads the freeze from the metadata. Since 1.4.
     */
    boolean soleClient() throws FsException;

    /**
     * How much of file {@code inode}'s stored data the caches hold. O(blocks of the file) metadata reads
     * (cached) and cache lookups; no data is read. EISDIR for a directory. Since 1.5.
     */
    CacheState cacheState(long inode) throws FsException;

    /**
     * Fetches every stored block of file {@code inode} that the cache does not hold into it (the disk block
     * cache when there is one, else the in-memory cache), several at a time, without sending the data
     * anywhere; returns when all are in, with the bytes fetched from the store. A warm-up before readers
     * come. Memory: at most a few blocks in flight. EISDIR for a directory; a store error fails it (EIO), the
     * blocks fetched so far stay cached. Since 1.5.
     */
    long warm(long inode) throws FsException;

    /**
     * Drops file {@code inode}'s blocks from the disk block cache (the file itself is untouched); returns the
     * bytes dropped. Since 1.5.
     */
    long evict(long inode) throws FsException;

    /** Whether {@code inode} is frozen ({@link #freeze}); ENOENT if it does not exist. Since 1.3. */
    boolean frozen(long inode) throws FsException;

    /**
     * Removes {@code name} in {@code parent} and, for a directory, everything below it, frozen or not: a frozen
     * tree can be removed whole (the repository's trash purging a released version), never changed. EPERM
     * unless {@code caller} is root, or when {@code parent} itself is frozen (that would change a frozen tree).
     * O(nodes) engine calls, memory bounded by the depth of the tree. Since 1.3.
     */
    void purge(Caller caller, long parent, String name) throws FsException;

    /**
     * fsck and gc of this volume, on its engine and store as the volume uses them (gc removes only leaked
     * blocks older than its grace period, so it is safe while the volume is busy). Closing it is a no-op.
     */
    io.hangar.fsck.VolumeCheck check();
}
