package io.hangar.meta.sqlite;

import static io.hangar.meta.sqlite.Txn.NEXT_INODE;
import static io.hangar.meta.sqlite.Txn.NEXT_SESSION;
import static io.hangar.meta.sqlite.Txn.NEXT_SLICE;
import static io.hangar.meta.sqlite.Txn.USED_INODES;
import static io.hangar.meta.sqlite.Txn.USED_SPACE;
import static io.hangar.meta.sqlite.Txn.code;

import io.hangar.fs.Attr;
import io.hangar.fs.DirEntry;
import io.hangar.fs.Entry;
import io.hangar.fs.Errno;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.fs.RenameFlags;
import io.hangar.fs.SetAttr;
import io.hangar.fs.StatFs;
import io.hangar.fs.XattrFlags;
import io.hangar.spi.meta.MetaProblem;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.Slice;
import io.hangar.spi.meta.SliceRef;
import io.hangar.spi.meta.StoredSlice;
import io.hangar.spi.meta.VolumeFormat;
import io.hangar.metrics.EngineMeters;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * A {@link MetadataEngine} in one SQLite file: the embedded default. The file is in WAL mode with
 * {@code synchronous=FULL}, so a mutation is durable when it returns (open-file records and
 * {@link #createFile} are committed unsynced: see docs/meta-sqlite.md); every mutation is one
 * {@code BEGIN IMMEDIATE} transaction, so it is atomic across crashes and serialised against other
 * processes sharing the file (the CLI beside a running runtime). The schema is in {@code docs/meta-sqlite.md}.
 */
public final class SqliteMetadataEngine implements MetadataEngine {
    /** Root directory mode at format: like JuiceFS, open to all; owners restrict it afterwards. */
    private static final int ROOT_MODE = 0777;
    private static final int MAX_SYMLINK = 4096;
    /** Stale sessions ended per transaction: bounds how long one cleanup holds the write lock. */
    private static final int SESSION_CLEAN_BATCH = 64;

    /** Attribute columns of {@code nodes n}, for joins with {@code edges e}. */
    private static final String JOINED_ATTRS = "n." + Txn.ATTR_COLUMNS.replace(", ", ", n.");
    private static final String LOOKUP = "SELECT " + JOINED_ATTRS
            + " FROM edges e JOIN nodes n ON n.inode = e.inode WHERE e.parent = ? AND e.name = ?";
    private static final String LIST = "SELECT name, inode, type FROM edges WHERE parent = ? AND name > ?"
            + " ORDER BY name LIMIT ?";
    private static final String LIST_WITH_ATTRS = "SELECT e.name, " + JOINED_ATTRS
            + " FROM edges e JOIN nodes n ON n.inode = e.inode WHERE e.parent = ? AND e.name > ?"
            + " ORDER BY e.name LIMIT ?";

    private interface Work<T> {
        T run(Txn t) throws SQLException, FsException;
    }

    private final Database db;
    private volatile VolumeFormat format;

    private SqliteMetadataEngine(Database db) {
        this.db = db;
    }

    /** Opens (creating if needed) the metadata file; its directory is created too. */
    public static SqliteMetadataEngine open(Path file) throws FsException {
        return open(file, Database.BUSY_TIMEOUT_MS);
    }

    /** As {@link #open(Path)}, waiting at most {@code busyTimeoutMs} per attempt for another process's lock. */
    static SqliteMetadataEngine open(Path file, int busyTimeoutMs) throws FsException {
        return open(file, busyTimeoutMs, new EngineMeters(null, SqliteUrl.SCHEME));
    }

    static SqliteMetadataEngine open(Path file, int busyTimeoutMs, EngineMeters meters) throws FsException {
        Path dir = file.toAbsolutePath().getParent();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new FsException(Errno.EIO, "cannot create directory " + dir + " for metadata database " + file
                    + ": " + e, e);
        }
        return new SqliteMetadataEngine(Database.open(file, busyTimeoutMs, meters));
    }

    private <T> T write(Work<T> w) throws FsException {
        return db.write(c -> w.run(new Txn(c, nowNs())));
    }

    private <T> T writeUnsynced(Work<T> w) throws FsException {
        return writeUnsynced(w, false);
    }

    /** Unsynced; {@code owesSync}: the change must be made durable by the next {@link #sync}. */
    private <T> T writeUnsynced(Work<T> w, boolean owesSync) throws FsException {
        return db.writeUnsynced(c -> w.run(new Txn(c, nowNs())), owesSync);
    }

    private <T> T read(Work<T> w) throws FsException {
        return db.read(c -> w.run(new Txn(c, nowNs())));
    }

    // ---- volume ----

    @Override
    public void format(VolumeFormat f) throws FsException {
        if (f.blockSize() <= 0 || f.chunkSize() <= 0 || f.chunkSize() % f.blockSize() != 0 || f.capacityBytes() < 0
                || f.inodeLimit() < 0 || f.uuid() == null || f.uuid().isEmpty()) {
            throw new FsException(Errno.EINVAL, "bad volume format " + f);
        }
        write(t -> {
            Optional<VolumeFormat> existing = loadSettings(t.c);
            if (existing.isPresent()) {
                if (existing.get().uuid().equals(f.uuid())) {
                    return null;
                }
                throw new FsException(Errno.EEXIST, db.file() + " already holds volume '" + existing.get().name()
                        + "' (" + existing.get().uuid() + ")");
            }
            if (t.c.exists("SELECT 1 FROM nodes LIMIT 1")) {
                throw new FsException(Errno.EEXIST, db.file() + " holds inodes but no volume settings");
            }
            Map<String, Object> settings = new HashMap<>();
            settings.put("name", nullToEmpty(f.name()));
            settings.put("uuid", f.uuid());
            settings.put("storage", nullToEmpty(f.storage()));
            settings.put("block_size", f.blockSize());
            settings.put("chunk_size", f.chunkSize());
            settings.put("capacity_bytes", f.capacityBytes());
            settings.put("inode_limit", f.inodeLimit());
            settings.put("created_ms", f.createdMs());
            for (Map.Entry<String, Object> e : settings.entrySet()) {
                t.c.update("INSERT INTO settings (name, value) VALUES (?, ?)", e.getKey(), String.valueOf(e.getValue()));
            }
            t.insertNode(new Attr(ROOT, FileType.DIRECTORY, ROOT_MODE, 0, 0, 2, 0, t.now, t.now, t.now, 0, ROOT));
            for (String counter : List.of(NEXT_INODE, USED_INODES)) {
                t.c.update("INSERT INTO counters (name, value) VALUES (?, 1)", counter);
            }
            for (String counter : List.of(NEXT_SLICE, NEXT_SESSION, USED_SPACE)) {
                t.c.update("INSERT INTO counters (name, value) VALUES (?, 0)", counter);
            }
            return null;
        });
    }

    @Override
    public Optional<VolumeFormat> load() throws FsException {
        Optional<VolumeFormat> f = read(t -> loadSettings(t.c));
        f.ifPresent(v -> format = v);
        return f;
    }

    private Optional<VolumeFormat> loadSettings(Conn c) throws SQLException, FsException {
        Map<String, String> s = new HashMap<>();
        for (String[] kv : c.list("SELECT name, value FROM settings", rs -> new String[] {rs.getString(1),
                rs.getString(2)})) {
            s.put(kv[0], kv[1]);
        }
        if (s.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(new VolumeFormat(s.get("name"), s.get("uuid"), s.get("storage"),
                    Integer.parseInt(s.get("block_size")), Integer.parseInt(s.get("chunk_size")),
                    Long.parseLong(s.get("capacity_bytes")), Long.parseLong(s.get("inode_limit")),
                    Long.parseLong(s.get("created_ms"))));
        } catch (RuntimeException e) {
            throw new FsException(Errno.EIO, "corrupt volume settings in " + db.file() + ": " + s, e);
        }
    }

    /** The volume's settings, read once: they never change after format. */
    private VolumeFormat settings() throws FsException {
        VolumeFormat f = format;
        if (f == null) {
            f = load().orElseThrow(() -> new FsException(Errno.EIO, "the volume at " + db.file()
                    + " is not formatted"));
        }
        return f;
    }

    // ---- namespace ----

    @Override
    public Entry lookup(long parent, String name) throws FsException {
        checkName(name);
        return read(t -> {
            Attr p = t.dir(parent);
            Attr a;
            if (name.equals(".")) {
                a = p;
            } else if (name.equals("..")) {
                a = t.node(p.parent());
            } else {
                a = t.c.one(LOOKUP, Txn::attr, parent, name);
                if (a == null) {
                    throw new FsException(Errno.ENOENT, name + " not found in directory " + parent);
                }
            }
            return new Entry(parent, name, a);
        });
    }

    @Override
    public Attr getattr(long inode) throws FsException {
        return read(t -> t.node(inode));
    }

    @Override
    public Attr setattr(long inode, SetAttr change) throws FsException {
        if (change.size() != null) {
            throw new FsException(Errno.EINVAL, "setattr cannot change the size: use truncate");
        }
        return write(t -> {
            Attr a = t.node(inode);
            Attr b = new Attr(inode, a.type(), change.mode() == null ? a.mode() : change.mode() & 07777,
                    change.uid() == null ? a.uid() : change.uid(), change.gid() == null ? a.gid() : change.gid(),
                    a.nlink(), a.length(), time(change.atimeNs(), a.atimeNs(), t.now),
                    time(change.mtimeNs(), a.mtimeNs(), t.now), time(change.ctimeNs(), t.now, t.now), a.rdev(),
                    a.parent());
            t.c.update("UPDATE nodes SET mode = ?, uid = ?, gid = ?, atime = ?, mtime = ?, ctime = ? WHERE inode = ?",
                    b.mode(), b.uid(), b.gid(), b.atimeNs(), b.mtimeNs(), b.ctimeNs(), inode);
            return b;
        });
    }

    /** A requested time: unchanged if null, the transaction's clock for {@link SetAttr#NOW}. */
    private static long time(Long requested, long unchanged, long now) {
        if (requested == null) {
            return unchanged;
        }
        return requested == SetAttr.NOW ? now : requested;
    }

    @Override
    public Entry mknod(long parent, String name, FileType type, int mode, int uid, int gid, int rdev, String target)
            throws FsException {
        checkNewName(name);
        if (type == null) {
            throw new FsException(Errno.EINVAL, "no file type");
        }
        long length = 0;
        if (type == FileType.SYMLINK) {
            if (target == null || target.isEmpty()) {
                throw new FsException(Errno.ENOENT, "empty symlink target");
            }
            length = target.getBytes(StandardCharsets.UTF_8).length;
            if (length > MAX_SYMLINK) {
                throw new FsException(Errno.ENAMETOOLONG, "symlink target longer than " + MAX_SYMLINK + " bytes");
            }
        }
        return write(insertNode(parent, name, type, mode, uid, gid, rdev, target, length));
    }

    /**
     * Not synced (as open and release), so a create costs no fsync of its own: the file's first commit of
     * data (writeSlice), or the sync its close asks for, makes it durable.
     */
    @Override
    public Entry createFile(long parent, String name, int mode, int uid, int gid) throws FsException {
        checkNewName(name);
        return writeUnsynced(insertNode(parent, name, FileType.FILE, mode, uid, gid, 0, null, 0), true);
    }

    @Override
    public void sync() throws FsException {
        db.sync();
    }

    private Work<Entry> insertNode(long parent, String name, FileType type, int mode, int uid, int gid, int rdev,
            String target, long size) throws FsException {
        VolumeFormat f = settings();
        return t -> {
            t.dir(parent);
            t.needFree(parent, name);
            t.checkInodes(f, 1);
            long inode = t.allocate(NEXT_INODE, 1);
            Attr a = new Attr(inode, type, mode & 07777, uid, gid, type == FileType.DIRECTORY ? 2 : 1, size, t.now,
                    t.now, t.now, rdev, parent);
            t.insertNode(a);
            t.insertEdge(parent, name, inode, type);
            if (type == FileType.SYMLINK) {
                t.c.update("INSERT INTO symlinks (inode, target) VALUES (?, ?)", inode, target);
            }
            t.touchDir(parent, type == FileType.DIRECTORY ? 1 : 0);
            t.add(USED_INODES, 1);
            return new Entry(parent, name, a);
        };
    }

    @Override
    public void unlink(long parent, String name) throws FsException {
        checkName(name);
        if (isDots(name)) {
            throw new FsException(Errno.EISDIR, "cannot unlink " + name);
        }
        write(t -> {
            t.dir(parent);
            Txn.Edge e = t.needEdge(parent, name);
            if (e.isDirectory()) {
                throw new FsException(Errno.EISDIR, name + " is a directory");
            }
            t.deleteEdge(parent, name);
            t.touchDir(parent, 0);
            t.dropLink(e.inode());
            return null;
        });
    }

    @Override
    public void rmdir(long parent, String name) throws FsException {
        checkName(name);
        if (isDots(name)) {
            if (parent == ROOT) {
                throw new FsException(Errno.EBUSY, "cannot remove the root directory");
            }
            throw new FsException(name.equals(".") ? Errno.EINVAL : Errno.ENOTEMPTY, "cannot remove " + name);
        }
        write(t -> {
            t.dir(parent);
            Txn.Edge e = t.needEdge(parent, name);
            if (!e.isDirectory()) {
                throw new FsException(Errno.ENOTDIR, name + " is not a directory");
            }
            if (t.hasChildren(e.inode())) {
                throw new FsException(Errno.ENOTEMPTY, name + " is not empty");
            }
            t.deleteEdge(parent, name);
            t.touchDir(parent, -1);
            t.reclaim(t.node(e.inode()));
            return null;
        });
    }

    @Override
    public void rename(long srcParent, String srcName, long dstParent, String dstName, int flags)
            throws FsException {
        // The order of renameat2(2): the flags first, then the names ("." and ".." are never renamed).
        if ((flags & ~(RenameFlags.NOREPLACE | RenameFlags.EXCHANGE)) != 0
                || flags == (RenameFlags.NOREPLACE | RenameFlags.EXCHANGE)) {
            throw new FsException(Errno.EINVAL, "bad rename flags " + flags);
        }
        checkName(srcName);
        checkName(dstName);
        if (isDots(srcName)) {
            throw new FsException(Errno.EBUSY, "cannot rename '" + srcName + "'");
        }
        if (isDots(dstName)) {
            throw new FsException((flags & RenameFlags.NOREPLACE) != 0 ? Errno.EEXIST : Errno.EBUSY,
                    "cannot rename onto '" + dstName + "'");
        }
        write(t -> {
            t.dir(srcParent);
            t.dir(dstParent);
            Txn.Edge src = t.needEdge(srcParent, srcName);
            Txn.Edge dst = t.edge(dstParent, dstName);
            if ((flags & RenameFlags.EXCHANGE) != 0) {
                exchange(t, srcParent, srcName, src, dstParent, dstName, dst);
            } else {
                move(t, srcParent, srcName, src, dstParent, dstName, dst, (flags & RenameFlags.NOREPLACE) != 0);
            }
            return null;
        });
    }

    private static void move(Txn t, long sp, String sn, Txn.Edge src, long dp, String dn, Txn.Edge dst,
            boolean noReplace) throws SQLException, FsException {
        if (dst != null) {
            if (noReplace) {
                throw new FsException(Errno.EEXIST, dn + " exists in directory " + dp);
            }
            if (dst.inode() == src.inode()) {
                // The same name, or two names of one inode: rename(2) does nothing.
                return;
            }
            if (src.isDirectory() && !dst.isDirectory()) {
                throw new FsException(Errno.ENOTDIR, dn + " is not a directory");
            }
            if (!src.isDirectory() && dst.isDirectory()) {
                throw new FsException(Errno.EISDIR, dn + " is a directory");
            }
            if (dst.isDirectory() && t.hasChildren(dst.inode())) {
                throw new FsException(Errno.ENOTEMPTY, dn + " is not empty");
            }
        }
        if (src.isDirectory()) {
            t.checkNotBelow(src.inode(), dp);
        }
        int spLinks = 0;
        int dpLinks = 0;
        if (dst != null) {
            t.deleteEdge(dp, dn);
            if (dst.isDirectory()) {
                dpLinks--;
                t.reclaim(t.node(dst.inode()));
            } else {
                t.dropLink(dst.inode());
            }
        }
        t.deleteEdge(sp, sn);
        t.insertEdge(dp, dn, src.inode(), src.type());
        t.moved(src, sp, dp);
        t.touchCtime(src.inode());
        if (src.isDirectory() && sp != dp) {
            spLinks--;
            dpLinks++;
        }
        if (sp == dp) {
            t.touchDir(sp, spLinks + dpLinks);
        } else {
            t.touchDir(sp, spLinks);
            t.touchDir(dp, dpLinks);
        }
    }

    private static void exchange(Txn t, long sp, String sn, Txn.Edge src, long dp, String dn, Txn.Edge dst)
            throws SQLException, FsException {
        if (dst == null) {
            throw new FsException(Errno.ENOENT, dn + " not found in directory " + dp);
        }
        if (src.inode() == dst.inode()) {
            return;
        }
        if (sp != dp) {
            if (src.isDirectory()) {
                t.checkNotBelow(src.inode(), dp);
            }
            if (dst.isDirectory()) {
                t.checkNotBelow(dst.inode(), sp);
            }
        }
        t.c.update("UPDATE edges SET inode = ?, type = ? WHERE parent = ? AND name = ?", dst.inode(), code(dst.type()),
                sp, sn);
        t.c.update("UPDATE edges SET inode = ?, type = ? WHERE parent = ? AND name = ?", src.inode(), code(src.type()),
                dp, dn);
        t.moved(src, sp, dp);
        t.moved(dst, dp, sp);
        t.touchCtime(src.inode());
        t.touchCtime(dst.inode());
        // A directory moving across takes its ".." link with it.
        int shift = (src.isDirectory() ? 1 : 0) - (dst.isDirectory() ? 1 : 0);
        if (sp == dp) {
            t.touchDir(sp, 0);
        } else {
            t.touchDir(sp, -shift);
            t.touchDir(dp, shift);
        }
    }

    @Override
    public Entry link(long inode, long newParent, String newName) throws FsException {
        checkNewName(newName);
        return write(t -> {
            Attr a = t.node(inode);
            if (a.isDirectory()) {
                throw new FsException(Errno.EPERM, "cannot hard-link directory " + inode);
            }
            t.dir(newParent);
            t.needFree(newParent, newName);
            if (a.nlink() == 0) {
                throw new FsException(Errno.ENOENT, "inode " + inode + " was unlinked");
            }
            if (a.nlink() >= MAX_LINKS) {
                throw new FsException(Errno.EMLINK, "inode " + inode + " has " + a.nlink() + " names already");
            }
            // Several names, no single parent: reported as 0, like JuiceFS.
            t.c.update("UPDATE nodes SET nlink = nlink + 1, parent = 0, ctime = ? WHERE inode = ?", t.now, inode);
            t.insertEdge(newParent, newName, inode, a.type());
            t.touchDir(newParent, 0);
            return new Entry(newParent, newName, t.node(inode));
        });
    }

    @Override
    public String readlink(long inode) throws FsException {
        return read(t -> {
            if (t.node(inode).type() != FileType.SYMLINK) {
                throw new FsException(Errno.EINVAL, "inode " + inode + " is not a symlink");
            }
            String target = t.c.one("SELECT target FROM symlinks WHERE inode = ?", rs -> rs.getString(1), inode);
            if (target == null) {
                throw new FsException(Errno.EIO, "symlink " + inode + " has no target");
            }
            return target;
        });
    }

    @Override
    public List<DirEntry> readdir(long inode, String after, int limit, boolean withAttributes) throws FsException {
        if (limit <= 0) {
            throw new FsException(Errno.EINVAL, "readdir limit must be positive");
        }
        // A cursor is a position in name order: "" sorts before every name.
        String from = after == null ? "" : after;
        return read(t -> {
            t.dir(inode);
            if (!withAttributes) {
                return t.c.list(LIST, rs -> new DirEntry(rs.getString(1), rs.getLong(2), Txn.type(rs.getInt(3)), null),
                        inode, from, limit);
            }
            return t.c.list(LIST_WITH_ATTRS, rs -> {
                        Attr a = Txn.attr(rs, 2);
                        return new DirEntry(rs.getString(1), a.inode(), a.type(), a);
                    }, inode, from, limit);
        });
    }

    // ---- extended attributes ----

    @Override
    public byte[] getxattr(long inode, String name) throws FsException {
        checkXattrName(name);
        return read(t -> {
            t.node(inode);
            byte[] v = t.c.one("SELECT value FROM xattrs WHERE inode = ? AND name = ?", rs -> rs.getBytes(1), inode,
                    name);
            if (v == null) {
                throw new FsException(Errno.ENODATA, "no attribute " + name + " on inode " + inode);
            }
            return v;
        });
    }

    @Override
    public void setxattr(long inode, String name, byte[] value, int flags) throws FsException {
        // The order of setxattr(2): flags, name, value.
        boolean keepCtime = (flags & XattrFlags.KEEP_CTIME) != 0;
        int mode = flags & ~XattrFlags.KEEP_CTIME;
        if ((mode & ~(XattrFlags.CREATE | XattrFlags.REPLACE)) != 0
                || mode == (XattrFlags.CREATE | XattrFlags.REPLACE)) {
            throw new FsException(Errno.EINVAL, "bad setxattr flags " + flags);
        }
        checkXattrName(name);
        if (value == null) {
            throw new FsException(Errno.EINVAL, "no xattr value");
        }
        if (value.length > MAX_XATTR_VALUE) {
            throw new FsException(Errno.E2BIG, "xattr value larger than " + MAX_XATTR_VALUE + " bytes");
        }
        write(t -> {
            t.node(inode);
            boolean exists = t.c.exists("SELECT 1 FROM xattrs WHERE inode = ? AND name = ?", inode, name);
            if (exists && mode == XattrFlags.CREATE) {
                throw new FsException(Errno.EEXIST, "attribute " + name + " exists on inode " + inode);
            }
            if (!exists && mode == XattrFlags.REPLACE) {
                throw new FsException(Errno.ENODATA, "no attribute " + name + " on inode " + inode);
            }
            t.c.update("INSERT OR REPLACE INTO xattrs (inode, name, value) VALUES (?, ?, ?)", inode, name, value);
            if (!keepCtime) {
                t.touchCtime(inode);
            }
            return null;
        });
    }

    @Override
    public List<String> listxattr(long inode) throws FsException {
        return read(t -> {
            t.node(inode);
            return t.c.list("SELECT name FROM xattrs WHERE inode = ? ORDER BY name", rs -> rs.getString(1), inode);
        });
    }

    @Override
    public void removexattr(long inode, String name) throws FsException {
        checkXattrName(name);
        write(t -> {
            t.node(inode);
            if (t.c.update("DELETE FROM xattrs WHERE inode = ? AND name = ?", inode, name) == 0) {
                throw new FsException(Errno.ENODATA, "no attribute " + name + " on inode " + inode);
            }
            t.touchCtime(inode);
            return null;
        });
    }

    @Override
    public StatFs statfs() throws FsException {
        VolumeFormat f = settings();
        return read(t -> new StatFs(f.capacityBytes(), t.counter(USED_SPACE), f.inodeLimit(), t.counter(USED_INODES)));
    }

    // ---- file layout ----

    @Override
    public long newSliceIds(int count) throws FsException {
        if (count <= 0) {
            throw new FsException(Errno.EINVAL, "slice id count must be positive");
        }
        return write(t -> t.allocate(NEXT_SLICE, count));
    }

    @Override
    public List<Slice> readChunk(long inode, int chunkIndex) throws FsException {
        return read(t -> t.chunk(inode, chunkIndex));
    }

    @Override
    public void writeSlice(long inode, int chunkIndex, Slice slice, long mtimeNs) throws FsException {
        VolumeFormat f = settings();
        checkSlice(f, chunkIndex, slice);
        write(t -> {
            Attr a = t.regularFile(inode);
            long length = Math.max(a.length(), (long) chunkIndex * f.chunkSize() + slice.end());
            long delta = Txn.space(length) - Txn.space(a.length());
            t.checkSpace(f, delta);
            t.appendToChunk(inode, chunkIndex, List.of(slice));
            t.retain(List.of(slice));
            t.c.update("UPDATE nodes SET length = ?, mtime = ?, ctime = ? WHERE inode = ?", length, mtimeNs, mtimeNs,
                    inode);
            t.add(USED_SPACE, delta);
            return null;
        });
    }

    @Override
    public Attr truncate(long inode, long length) throws FsException {
        if (length < 0) {
            throw new FsException(Errno.EINVAL, "negative length " + length);
        }
        if (length > MAX_FILE_SIZE) {
            throw new FsException(Errno.EFBIG, "length " + length + " exceeds the largest file (" + MAX_FILE_SIZE + ")");
        }
        VolumeFormat f = settings();
        int cs = f.chunkSize();
        return write(t -> {
            Attr a = t.regularFile(inode);
            long delta = Txn.space(length) - Txn.space(a.length());
            t.checkSpace(f, delta);
            if (length < a.length()) {
                t.dropChunks(inode, (int) ((length + cs - 1) / cs));
                int pos = (int) (length % cs);
                int last = (int) (length / cs);
                if (pos > 0 && t.c.exists("SELECT 1 FROM chunks WHERE inode = ? AND idx = ?", inode, last)) {
                    // The kept chunk may hold data past the new end: a hole over it makes later growth read zeros.
                    int end = (int) Math.min(cs, a.length() - (long) last * cs);
                    t.appendToChunk(inode, last, List.of(Slice.hole(pos, end - pos)));
                }
            }
            t.c.update("UPDATE nodes SET length = ?, mtime = ?, ctime = ? WHERE inode = ?", length, t.now, t.now,
                    inode);
            t.add(USED_SPACE, delta);
            return t.node(inode);
        });
    }

    @Override
    public boolean compactChunk(long inode, int chunkIndex, List<Slice> expected, List<Slice> replacement)
            throws FsException {
        VolumeFormat f = settings();
        for (Slice s : replacement) {
            checkSlice(f, chunkIndex, s);
        }
        return write(t -> {
            Attr a = t.regularFile(inode);
            if ((long) chunkIndex * f.chunkSize() >= a.length()) {
                // Past the end of the file there is nothing to compact (records there would show if it grew).
                return false;
            }
            List<Slice> current = t.chunk(inode, chunkIndex);
            if (current.size() < expected.size() || !current.subList(0, expected.size()).equals(expected)) {
                return false;
            }
            List<Slice> records = new ArrayList<>(replacement);
            records.addAll(current.subList(expected.size(), current.size()));
            t.replaceChunk(inode, chunkIndex, records);
            // Retain before releasing: a slice kept by the compaction never drops to zero references.
            t.retain(replacement);
            t.release(expected);
            return true;
        });
    }

    @Override
    public long copyRange(long srcInode, long srcOff, long dstInode, long dstOff, long len, long mtimeNs)
            throws FsException {
        if (srcOff < 0 || dstOff < 0 || len < 0) {
            throw new FsException(Errno.EINVAL, "copy range " + srcOff + " -> " + dstOff + " of " + len + " bytes");
        }
        VolumeFormat f = settings();
        long cs = f.chunkSize();
        return write(t -> {
            Attr src = t.regularFile(srcInode);
            Attr dst = srcInode == dstInode ? src : t.regularFile(dstInode);
            long n = Math.min(len, Math.max(0, src.length() - srcOff));
            if (n == 0) {
                return 0L;
            }
            if (dstOff > MAX_FILE_SIZE - n) {
                throw new FsException(Errno.EFBIG, "copy to " + dstOff + " of " + n + " bytes ends past the largest file");
            }
            if (srcInode == dstInode && srcOff < dstOff + n && dstOff < srcOff + n) {
                throw new FsException(Errno.EINVAL, "overlapping ranges of inode " + srcInode);
            }
            long length = Math.max(dst.length(), dstOff + n);
            long delta = Txn.space(length) - Txn.space(dst.length());
            t.checkSpace(f, delta);
            // Everything is read before the first write: with one inode, the source's records stay as they were.
            List<Object[]> srcChunks = t.c.list("SELECT idx, slices FROM chunks WHERE inode = ? AND idx BETWEEN ? AND ?"
                    + " ORDER BY idx", rs -> new Object[] {rs.getLong(1), rs.getBytes(2)}, srcInode, srcOff / cs,
                    (srcOff + n - 1) / cs);
            List<Long> dstChunks = t.c.list("SELECT idx FROM chunks WHERE inode = ? AND idx BETWEEN ? AND ?",
                    rs -> rs.getLong(1), dstInode, dstOff / cs, (dstOff + n - 1) / cs);
            Map<Long, List<Slice>> out = new TreeMap<>();
            // What the destination held in the range is covered first; the source's records go on top.
            for (long d : dstChunks) {
                long from = Math.max(dstOff, d * cs);
                long to = Math.min(dstOff + n, (d + 1) * cs);
                out.computeIfAbsent(d, k -> new ArrayList<>()).add(Slice.hole((int) (from - d * cs), (int) (to - from)));
            }
            long shift = dstOff - srcOff;
            for (Object[] chunk : srcChunks) {
                long base = (Long) chunk[0] * cs;
                for (Slice s : SliceRecords.decode((byte[]) chunk[1])) {
                    long from = Math.max(base + s.pos(), srcOff);
                    long to = Math.min(base + s.end(), srcOff + n);
                    while (from < to) {
                        long at = from + shift;
                        long d = at / cs;
                        int piece = (int) (Math.min(to + shift, (d + 1) * cs) - at);
                        int pos = (int) (at - d * cs);
                        out.computeIfAbsent(d, k -> new ArrayList<>()).add(s.isHole() ? Slice.hole(pos, piece)
                                : new Slice(s.id(), s.size(), s.off() + (int) (from - base - s.pos()), piece, pos));
                        from += piece;
                    }
                }
            }
            for (Map.Entry<Long, List<Slice>> e : out.entrySet()) {
                t.appendToChunk(dstInode, (int) (long) e.getKey(), e.getValue());
                t.retain(e.getValue());
            }
            t.c.update("UPDATE nodes SET length = ?, mtime = ?, ctime = ? WHERE inode = ?", length, mtimeNs, mtimeNs,
                    dstInode);
            t.add(USED_SPACE, delta);
            return n;
        });
    }

    @Override
    public Entry clone(long srcInode, long dstParent, String dstName, int uid, int gid) throws FsException {
        checkNewName(dstName);
        VolumeFormat f = settings();
        return write(t -> {
            Attr src = t.node(srcInode);
            t.dir(dstParent);
            t.needFree(dstParent, dstName);
            if (src.isDirectory()) {
                t.checkNotBelow(srcInode, dstParent);
            }
            if (src.nlink() == 0) {
                throw new FsException(Errno.ENOENT, "inode " + srcInode + " was unlinked");
            }
            long inodes = 0;
            long space = 0;
            Attr root = copyNode(t, src, dstParent, uid, gid);
            Deque<long[]> dirs = new ArrayDeque<>();
            if (src.isDirectory()) {
                dirs.add(new long[] {srcInode, root.inode()});
            }
            inodes++;
            space += src.type() == FileType.FILE ? Txn.space(src.length()) : 0;
            while (!dirs.isEmpty()) {
                long[] pair = dirs.poll();
                List<Object[]> children = t.c.list("SELECT name, inode FROM edges WHERE parent = ? ORDER BY name",
                        rs -> new Object[] {rs.getString(1), rs.getLong(2)}, pair[0]);
                int subdirs = 0;
                for (Object[] child : children) {
                    Attr a = t.node((Long) child[1]);
                    Attr copy = copyNode(t, a, pair[1], uid, gid);
                    t.insertEdge(pair[1], (String) child[0], copy.inode(), copy.type());
                    inodes++;
                    if (a.isDirectory()) {
                        subdirs++;
                        dirs.add(new long[] {a.inode(), copy.inode()});
                    } else if (a.type() == FileType.FILE) {
                        space += Txn.space(a.length());
                    }
                }
                t.c.update("UPDATE nodes SET nlink = nlink + ? WHERE inode = ?", subdirs, pair[1]);
            }
            // Limits are checked on the finished copy; failing rolls the whole copy back.
            t.checkInodes(f, inodes);
            t.checkSpace(f, space);
            t.add(USED_INODES, inodes);
            t.add(USED_SPACE, space);
            t.insertEdge(dstParent, dstName, root.inode(), root.type());
            t.touchDir(dstParent, root.isDirectory() ? 1 : 0);
            return new Entry(dstParent, dstName, t.node(root.inode()));
        });
    }

    /**
     * Copies one inode (attributes, xattrs, symlink target, chunks with a new reference per record) under a
     * new number owned by {@code uid}/{@code gid}. A copied directory starts with no subdirectories.
     */
    private static Attr copyNode(Txn t, Attr a, long parent, int uid, int gid) throws SQLException {
        long inode = t.allocate(NEXT_INODE, 1);
        Attr copy = new Attr(inode, a.type(), a.mode(), uid, gid, a.isDirectory() ? 2 : 1, a.length(), a.atimeNs(),
                a.mtimeNs(), t.now, a.rdev(), parent);
        t.insertNode(copy);
        t.c.update("INSERT INTO xattrs (inode, name, value) SELECT ?, name, value FROM xattrs WHERE inode = ?", inode,
                a.inode());
        if (a.type() == FileType.SYMLINK) {
            t.c.update("INSERT INTO symlinks (inode, target) SELECT ?, target FROM symlinks WHERE inode = ?", inode,
                    a.inode());
        } else if (a.type() == FileType.FILE) {
            List<byte[]> blobs = t.c.list("SELECT slices FROM chunks WHERE inode = ?", rs -> rs.getBytes(1), a.inode());
            for (byte[] b : blobs) {
                t.retain(SliceRecords.decode(b));
            }
            t.c.update("INSERT INTO chunks (inode, idx, slices) SELECT ?, idx, slices FROM chunks WHERE inode = ?",
                    inode, a.inode());
        }
        return copy;
    }

    @Override
    public List<StoredSlice> scanSlices(long afterId, int limit) throws FsException {
        if (limit <= 0) {
            return List.of();
        }
        return read(t -> t.c.list("SELECT id, size, refs FROM slice_refs WHERE id > ?"
                + " UNION ALL SELECT id, size, 0 FROM pending_slices WHERE id > ? ORDER BY 1 LIMIT ?",
                rs -> new StoredSlice(rs.getLong(1), rs.getInt(2), rs.getLong(3)), afterId, afterId, limit));
    }

    @Override
    public void check(boolean repair, Consumer<MetaProblem> report) throws FsException {
        new SqliteCheck(db, settings().chunkSize(), repair, report).run();
    }

    @Override
    public List<SliceRef> pendingSliceDeletes(int limit) throws FsException {
        if (limit <= 0) {
            return List.of();
        }
        return read(t -> t.c.list("SELECT id, size FROM pending_slices ORDER BY id LIMIT ?",
                rs -> new SliceRef(rs.getLong(1), rs.getInt(2)), limit));
    }

    @Override
    public void confirmSliceDeletes(List<SliceRef> done) throws FsException {
        if (done.isEmpty()) {
            return;
        }
        write(t -> {
            for (SliceRef r : done) {
                t.c.update("DELETE FROM pending_slices WHERE id = ? AND size = ?", r.id(), r.size());
            }
            return null;
        });
    }

    // ---- sessions and open files ----

    @Override
    public long openSession(String info) throws FsException {
        return write(t -> {
            long sid = t.allocate(NEXT_SESSION, 1);
            long ms = System.currentTimeMillis();
            t.c.update("INSERT INTO sessions (sid, info, started, heartbeat) VALUES (?, ?, ?, ?)", sid,
                    info == null ? "" : info, ms, ms);
            return sid;
        });
    }

    @Override
    public boolean otherSessions(long session) throws FsException {
        return read(t -> t.c.exists("SELECT 1 FROM sessions WHERE sid <> ?", session));
    }

    @Override
    public List<io.hangar.spi.meta.SessionRecord> sessions(int limit) throws FsException {
        if (limit < 0) {
            throw new FsException(Errno.EINVAL, "negative session limit");
        }
        long now = System.currentTimeMillis();
        return read(t -> t.c.list("SELECT sid, info, heartbeat FROM sessions ORDER BY heartbeat DESC LIMIT ?",
                rs -> new io.hangar.spi.meta.SessionRecord(rs.getLong(1), rs.getString(2),
                        Math.max(0, now - rs.getLong(3))), limit));
    }

    @Override
    public void heartbeat(long session) throws FsException {
        write(t -> {
            if (t.c.update("UPDATE sessions SET heartbeat = ? WHERE sid = ?", System.currentTimeMillis(), session) == 0) {
                throw new FsException(Errno.ENOENT, "session " + session + " has ended");
            }
            return null;
        });
    }

    @Override
    public void closeSession(long session) throws FsException {
        write(t -> {
            endSession(t, session);
            return null;
        });
    }

    private static void endSession(Txn t, long session) throws SQLException {
        List<Long> held = t.c.list("SELECT inode FROM open_files WHERE sid = ?", rs -> rs.getLong(1), session);
        t.c.update("DELETE FROM open_files WHERE sid = ?", session);
        for (long inode : held) {
            t.reclaimIfUnused(inode);
        }
        t.c.update("DELETE FROM sessions WHERE sid = ?", session);
    }

    @Override
    public void open(long session, long inode) throws FsException {
        // Not synced: an open file record matters only while its session lives, and a session does not
        // outlive a power failure (its heartbeat stops; cleanStaleSessions ends it).
        writeUnsynced(t -> {
            t.node(inode);
            if (!t.c.exists("SELECT 1 FROM sessions WHERE sid = ?", session)) {
                throw new FsException(Errno.ENOENT, "session " + session + " has ended");
            }
            t.c.update("INSERT INTO open_files (sid, inode, opens) VALUES (?, ?, 1)"
                    + " ON CONFLICT (sid, inode) DO UPDATE SET opens = opens + 1", session, inode);
            return null;
        });
    }

    @Override
    public void release(long session, long inode) throws FsException {
        // Synced only when the last close frees a deleted file's data: that commit queues block deletions.
        boolean frees = read(t -> t.c.exists("SELECT 1 FROM deleted_files WHERE inode = ?", inode));
        Work<Void> work = t -> {
            long opens = t.c.longValue("SELECT opens FROM open_files WHERE sid = ? AND inode = ?", 0, session, inode);
            if (opens == 0) {
                return null;
            }
            if (opens > 1) {
                t.c.update("UPDATE open_files SET opens = opens - 1 WHERE sid = ? AND inode = ?", session, inode);
                return null;
            }
            t.c.update("DELETE FROM open_files WHERE sid = ? AND inode = ?", session, inode);
            t.reclaimIfUnused(inode);
            return null;
        };
        if (frees) {
            write(work);
        } else {
            writeUnsynced(work);
        }
    }

    @Override
    public int cleanStaleSessions(long timeoutMs) throws FsException {
        if (timeoutMs < 0) {
            throw new FsException(Errno.EINVAL, "negative session timeout");
        }
        int total = 0;
        int n;
        do {
            long cutoff = System.currentTimeMillis() - timeoutMs;
            n = write(t -> {
                List<Long> stale = t.c.list("SELECT sid FROM sessions WHERE heartbeat < ? ORDER BY sid LIMIT ?",
                        rs -> rs.getLong(1), cutoff, SESSION_CLEAN_BATCH);
                for (long sid : stale) {
                    endSession(t, sid);
                }
                return stale.size();
            });
            total += n;
        } while (n == SESSION_CLEAN_BATCH);
        return total;
    }

    @Override
    public void close() {
        db.close();
    }

    @Override
    public String toString() {
        return "sqlite metadata at " + db.file();
    }

    // ---- validation ----

    private static void checkSlice(VolumeFormat f, int chunkIndex, Slice s) throws FsException {
        if (chunkIndex < 0 || s.pos() < 0 || s.len() <= 0 || s.off() < 0 || s.size() <= 0
                || (long) s.off() + s.len() > s.size() || s.id() < 0 || (long) s.pos() + s.len() > f.chunkSize()) {
            throw new FsException(Errno.EINVAL, "bad slice " + s + " for chunk " + chunkIndex);
        }
        if ((long) chunkIndex * f.chunkSize() + s.end() > MAX_FILE_SIZE) {
            throw new FsException(Errno.EFBIG, "slice " + s + " of chunk " + chunkIndex + " ends past the largest file");
        }
    }

    private static void checkName(String name) throws FsException {
        if (name == null || name.isEmpty()) {
            throw new FsException(Errno.EINVAL, "empty name");
        }
        if (name.indexOf('/') >= 0 || name.indexOf('\0') >= 0) {
            throw new FsException(Errno.EINVAL, "name contains '/' or NUL: " + name);
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME) {
            throw new FsException(Errno.ENAMETOOLONG, "name longer than " + MAX_NAME + " bytes");
        }
    }

    /** A name to create: "." and ".." always exist. */
    private static void checkNewName(String name) throws FsException {
        checkName(name);
        if (isDots(name)) {
            throw new FsException(Errno.EEXIST, "'" + name + "' always exists");
        }
    }

    private static boolean isDots(String name) {
        return name.equals(".") || name.equals("..");
    }

    /** As Linux: an empty name and one longer than {@link #MAX_XATTR_NAME} bytes are both ERANGE. */
    private static void checkXattrName(String name) throws FsException {
        if (name == null || name.isEmpty()) {
            throw new FsException(Errno.ERANGE, "empty xattr name");
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_XATTR_NAME) {
            throw new FsException(Errno.ERANGE, "xattr name longer than " + MAX_XATTR_NAME + " bytes");
        }
    }

    private static long nowNs() {
        Instant i = Instant.now();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }
}
