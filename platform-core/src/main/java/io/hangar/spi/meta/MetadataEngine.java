package io.hangar.spi.meta;

import io.hangar.fs.Attr;
import io.hangar.fs.DirEntry;
import io.hangar.fs.Entry;
import io.hangar.fs.Errno;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.fs.SetAttr;
import io.hangar.fs.StatFs;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * The namespace and file layout of one volume. Every method that changes state is atomic: it is applied
 * whole or not at all, also when the process dies in the middle, and once it returns it is durable (the one
 * exception, {@link #createFile}, is durable once {@link #sync} has returned).
 * Errors are {@link FsException}s carrying the POSIX errno a file system would return; a failure to reach
 * the backend is {@code EIO}/{@code EAGAIN} and leaves nothing half-applied, so it may be retried.
 *
 * <p>The root directory is inode {@link #ROOT}. Names are at most {@link #MAX_NAME} bytes of UTF-8 and
 * contain neither '/' nor NUL. Permission checks are the frontend's job (the kernel's with FUSE
 * {@code default_permissions}); the engine enforces the namespace rules.
 *
 * <p>Implementations are thread-safe; several engines (processes) may share one backend.
 *
 * <p>Conventions every engine follows (the conformance kit checks them):
 * <ul>
 * <li>Names sort in UTF-8 byte order; {@code readdir} cursors compare the same way.</li>
 * <li>{@code Attr.parent} is the directory of a node with exactly one name; 0 for a file with several names
 * or none (open after its last unlink).</li>
 * <li>Used space is the sum of regular-file lengths, each rounded up to 4 KiB; used inodes count every node,
 * the root included (a fresh volume reports 1), as {@code df -i} does. Engines enforce the format's capacity
 * and inode limit with ENOSPC.</li>
 * <li>A file is at most {@link #MAX_FILE_SIZE} bytes long: {@link #truncate} and {@link #writeSlice} beyond it
 * fail with EFBIG and change nothing. Work per call is bounded by the data a file holds, never by its
 * length: a sparse file of {@code MAX_FILE_SIZE} bytes costs what its stored chunks cost.</li>
 * <li>A non-directory has at most {@link #MAX_LINKS} names: {@link #link} beyond fails with EMLINK, as on
 * ext4. A directory's subdirectories are not limited.</li>
 * <li>"." and ".." follow Linux: {@code unlink} EISDIR; {@code mknod}, {@code link} and {@code clone} to them
 * EEXIST; {@code rmdir} EINVAL for ".", ENOTEMPTY for ".." (EBUSY for the root); {@code rename} EBUSY for
 * either name, except EEXIST for the destination with {@code NOREPLACE}.</li>
 * <li>Extended attributes follow Linux setxattr(2): a name that is empty or longer than
 * {@link #MAX_XATTR_NAME} bytes fails with ERANGE (also for get and remove), a value longer than
 * {@link #MAX_XATTR_VALUE} bytes with E2BIG; unknown flags, or CREATE with REPLACE, EINVAL.</li>
 * <li>Opens are counted per session: two {@link #open} calls need two {@link #release} calls.</li>
 * <li>{@link #newSliceIds} returns ids that increase across every client of the backend.</li>
 * <li>{@link #close} is idempotent.</li>
 * </ul>
 */
@ConsumerType
public interface MetadataEngine extends AutoCloseable {
    long ROOT = 1;
    int MAX_NAME = 255;
    /**
     * The largest file length, 2^50 bytes (1 PiB): below 2^53, so every engine (also one that counts in
     * doubles, as Lua does) represents every offset exactly, and chunk indexes fit an {@code int}.
     */
    long MAX_FILE_SIZE = 1L << 50;
    /** The most names a non-directory may have (ext4's {@code EXT4_LINK_MAX}); more fail with EMLINK. */
    int MAX_LINKS = 65000;
    /** The longest extended attribute name in UTF-8 bytes (Linux {@code XATTR_NAME_MAX}). */
    int MAX_XATTR_NAME = 255;
    /** The largest extended attribute value in bytes (Linux {@code XATTR_SIZE_MAX}). */
    int MAX_XATTR_VALUE = 65536;

    // ---- volume ----

    /**
     * Formats an empty backend: records the settings and creates the root directory. Formatting a backend
     * that already holds a volume fails with EEXIST, unless it is the same volume (same UUID), which is a
     * no-op.
     */
    void format(VolumeFormat format) throws FsException;

    /** The settings of the volume, or empty if the backend was never formatted. */
    Optional<VolumeFormat> load() throws FsException;

    // ---- namespace ----

    /** Resolves {@code name} in directory {@code parent}; "." and ".." are resolved too. */
    Entry lookup(long parent, String name) throws FsException;

    Attr getattr(long inode) throws FsException;

    /** Changes mode, owner and times ({@code size} must be null: use {@link #truncate}); ctime is updated. */
    Attr setattr(long inode, SetAttr change) throws FsException;

    /**
     * Creates a file, directory, FIFO, socket, device or symlink ({@code target} only for symlinks).
     * {@code mode} holds permission bits. EEXIST if the name is taken, ENOTDIR if parent is no directory.
     */
    Entry mknod(long parent, String name, FileType type, int mode, int uid, int gid, int rdev, String target)
            throws FsException;

    /**
     * Creates a regular file as {@link #mknod} does, for an open with {@code O_CREAT}: atomic, and kept when
     * the process dies, but durable only once {@link #sync} or any later change of this engine that is
     * durable (a {@link #writeSlice}, say) has returned, so an engine may leave its flush to the first commit
     * of the file's data. The volume syncs at the file's close and fsync unless a slice of it was committed
     * since, and at an fsync of its directory. The default is {@code mknod}: durable at once. Since 1.5.
     */
    default Entry createFile(long parent, String name, int mode, int uid, int gid) throws FsException {
        return mknod(parent, name, FileType.FILE, mode, uid, gid, 0, null);
    }

    /**
     * Makes every change this engine has returned durable: those of {@link #createFile} not yet flushed with
     * a later change. Cheap when nothing is owed. The default does nothing (every change is durable at
     * once). Since 1.5.
     */
    default void sync() throws FsException {
    }

    /**
     * Removes a non-directory name (EISDIR for a directory, "." or ".."). When the inode's last link goes while a session has it open, its data
     * stays until the last {@link #release}; otherwise its slices are released at once.
     */
    void unlink(long parent, String name) throws FsException;

    /** Removes an empty directory: ENOTEMPTY, ENOTDIR; EBUSY for the root (named as ROOT "." or ".."). */
    void rmdir(long parent, String name) throws FsException;

    /**
     * Renames with the semantics of renameat2(2): replaces an existing destination of compatible type
     * (EISDIR, ENOTDIR, ENOTEMPTY otherwise), {@code RenameFlags.NOREPLACE} and {@code RenameFlags.EXCHANGE}.
     * Moving a directory below itself fails with EINVAL, and so does an exchange in which either directory
     * would end up below itself (one is an ancestor of the other). Unknown flags, or NOREPLACE with EXCHANGE:
     * EINVAL before anything else. "." or ".." as either name: EBUSY (EEXIST for the destination with
     * NOREPLACE). A replaced destination loses one link: its other names, attributes and xattrs stay; with
     * its last name it goes whole (after the last release if it is open).
     */
    void rename(long srcParent, String srcName, long dstParent, String dstName, int flags) throws FsException;

    /**
     * Adds a hard link: EPERM for directories, ENOENT for a file unlinked while open, EMLINK once the inode
     * has {@link #MAX_LINKS} names. Returns the new entry with the raised link count.
     */
    Entry link(long inode, long newParent, String newName) throws FsException;

    String readlink(long inode) throws FsException;

    /**
     * Lists a directory in name order, starting after {@code after} (null: from the start), at most
     * {@code limit} entries, without "." and "..". The cursor stays valid while entries come and go.
     */
    List<DirEntry> readdir(long inode, String after, int limit, boolean withAttributes) throws FsException;

    // ---- extended attributes ----

    /** ENODATA if the attribute does not exist. */
    byte[] getxattr(long inode, String name) throws FsException;

    /**
     * {@code flags}: {@code XattrFlags.CREATE} (EEXIST) or {@code XattrFlags.REPLACE} (ENODATA), either
     * optionally with {@code XattrFlags.KEEP_CTIME} (the change leaves ctime alone). The limits of
     * names and values are in the class comment (ERANGE, E2BIG).
     */
    void setxattr(long inode, String name, byte[] value, int flags) throws FsException;

    List<String> listxattr(long inode) throws FsException;

    void removexattr(long inode, String name) throws FsException;

    StatFs statfs() throws FsException;

    // ---- file layout ----

    /** Allocates {@code count} consecutive new slice ids and returns the first. */
    long newSliceIds(int count) throws FsException;

    /** The slice records of one chunk in write order (empty if none). */
    List<Slice> readChunk(long inode, int chunkIndex) throws FsException;

    /**
     * Appends a slice record to a chunk whose blocks are already stored, extends the file length to cover
     * it, sets mtime and ctime to {@code mtimeNs}, updates the usage counters, and takes the slice's first
     * reference.
     */
    void writeSlice(long inode, int chunkIndex, Slice slice, long mtimeNs) throws FsException;

    /**
     * Sets the length of a regular file. Shrinking releases the chunks beyond the end and makes the bytes
     * past the new end of the last chunk read as zeros if the file grows again.
     */
    Attr truncate(long inode, long length) throws FsException;

    /**
     * Replaces the first {@code expected.size()} records of a chunk by {@code replacement} if they are still
     * exactly {@code expected} (records appended since are kept on top). Returns false and changes nothing
     * otherwise, and for a chunk that starts at or past the end of the file (records there would show if the
     * file grew). The replaced records give up their references; the replacement takes new ones. EISDIR for a
     * directory, EINVAL for other non-files.
     */
    boolean compactChunk(long inode, int chunkIndex, List<Slice> expected, List<Slice> replacement)
            throws FsException;

    /**
     * Copies a file or a directory tree to a new name without copying data: attributes (mode, times) and
     * xattrs are kept, every copied node is owned by {@code uid}/{@code gid}, slice lists are copied and
     * every slice gains a reference. Hard links inside a tree become separate files. The copy becomes
     * visible only when complete.
     */
    Entry clone(long srcInode, long dstParent, String dstName, int uid, int gid) throws FsException;

    /**
     * Makes bytes {@code [dstOff, dstOff+n)} of regular file {@code dstInode} read as bytes
     * {@code [srcOff, srcOff+n)} of regular file {@code srcInode} without copying data, where {@code n} is
     * {@code len} cut at the end of the source ({@code n = min(len, max(0, srcLength - srcOff))}); returns
     * {@code n}. Every destination chunk the range touches that holds records gets a hole record over the
     * range, then the source's records of the range in their write order, clipped and shifted (split where
     * they cross a destination chunk boundary), each taking a reference to its slice as any record does. The
     * destination grows to {@code dstOff + n} if it was shorter; its mtime and ctime become {@code mtimeNs}.
     * One atomic change, like every other: applied whole or not at all.
     *
     * <p>Work follows the records of the chunks the range touches (chunks that hold none cost nothing), never
     * the length of the range. Errors: EINVAL for a negative offset or length, or for overlapping ranges of
     * one file; EFBIG if {@code dstOff + n} passes {@link #MAX_FILE_SIZE}; EISDIR for a directory, EINVAL for
     * other non-files; ENOSPC past the capacity. With {@code n == 0} nothing changes. Engines older than SPI
     * 1.2 throw EOPNOTSUPP: callers then copy the bytes.
     */
    default long copyRange(long srcInode, long srcOff, long dstInode, long dstOff, long len, long mtimeNs)
            throws FsException {
        throw new FsException(Errno.EOPNOTSUPP, getClass().getName() + " cannot copy slice ranges");
    }

    /** Slices whose last reference is gone and whose blocks may be deleted from the chunk store. */
    List<SliceRef> pendingSliceDeletes(int limit) throws FsException;

    /** Forgets slices whose blocks were deleted. */
    void confirmSliceDeletes(List<SliceRef> done) throws FsException;

    // ---- consistency: what fsck and gc read ----

    /**
     * Slices whose blocks are in the chunk store (referenced, or waiting in {@link #pendingSliceDeletes}) in
     * id order, starting after {@code afterId}, at most {@code limit}. A page costs what it returns, so fsck
     * can walk millions of slices in bounded memory. Engines older than SPI 1.1 throw EOPNOTSUPP.
     */
    default List<StoredSlice> scanSlices(long afterId, int limit) throws FsException {
        throw new FsException(Errno.EOPNOTSUPP, getClass().getName() + " cannot list its slices");
    }

    /**
     * Checks the engine's own records: every entry names an existing inode of its type; link counts and
     * parents match the names; every inode is reachable or open after its last unlink; reference counts equal
     * the records naming each slice and the slice index holds exactly the referenced and pending slices; the
     * usage counters equal what the files add up to. Each problem goes to {@code report}. With {@code repair},
     * what can be fixed without guessing (counters, reference counts, the slice index, link counts, parents,
     * entries naming missing inodes) is fixed and reported as repaired; the rest is only named. Memory stays
     * bounded on any volume size. Meant for a quiet volume: changes made while it runs may be reported as
     * problems (and, with {@code repair}, must not be running). Engines older than SPI 1.1 throw EOPNOTSUPP.
     */
    default void check(boolean repair, Consumer<MetaProblem> report) throws FsException {
        throw new FsException(Errno.EOPNOTSUPP, getClass().getName() + " cannot check its records");
    }

    // ---- sessions and open files ----

    /** Registers a client; its open files are tracked under the returned session id. */
    long openSession(String info) throws FsException;

    /** Keeps a session alive; sessions silent longer than the timeout are cleaned up by others. */
    void heartbeat(long session) throws FsException;

    /** Ends a session and releases every file it still had open. */
    void closeSession(long session) throws FsException;

    /** Notes that a session opened an inode. */
    void open(long session, long inode) throws FsException;

    /** Notes that a session closed an inode; the last close of an unlinked file reclaims it. */
    void release(long session, long inode) throws FsException;

    /**
     * Ends sessions whose last heartbeat is more than {@code timeoutMs} old by the backend's clock (the
     * server's where there is one); returns how many.
     */
    int cleanStaleSessions(long timeoutMs) throws FsException;

    /**
     * Whether a session other than {@code session} is open on this backend (one gone silent counts until it
     * is cleaned up). A client alone on the backend knows that no other can hold an answer older than its
     * own last change. The default, for an engine that cannot tell, is true. Since 1.3.
     */
    default boolean otherSessions(long session) throws FsException {
        return true;
    }

    /**
     * The open sessions, most recently heard from first, at most {@code limit} of them (a session gone
     * silent is listed until it is cleaned up; its {@link SessionRecord#sinceHeartbeatMs} tells). Clients
     * find each other here: a cache group's members are the sessions that name the group in their info.
     * The default, for an engine that cannot list them, fails with EOPNOTSUPP. Since 1.4.
     */
    default java.util.List<SessionRecord> sessions(int limit) throws FsException {
        throw new FsException(Errno.EOPNOTSUPP, getClass().getName() + " cannot list its sessions");
    }

    /** Frees connections. Does not throw for a backend that is already gone. */
    @Override
    void close();
}
