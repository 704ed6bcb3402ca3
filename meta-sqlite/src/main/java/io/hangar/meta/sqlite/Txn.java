package io.hangar.meta.sqlite;

import static io.hangar.spi.meta.MetadataEngine.ROOT;

import io.hangar.fs.Attr;
import io.hangar.fs.Errno;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.spi.meta.Slice;
import io.hangar.spi.meta.VolumeFormat;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The namespace rules shared by several operations, applied inside one transaction: inode and entry
 * look-ups with their errnos, link counting, reclaiming inodes, slice references and usage counters.
 * {@code now} is the one clock reading every change of the transaction is stamped with.
 */
final class Txn {
    static final String ATTR_COLUMNS = "inode, type, mode, uid, gid, nlink, length, atime, mtime, ctime, rdev, parent";

    // Counter names in the counters table.
    static final String NEXT_INODE = "next_inode";
    static final String NEXT_SLICE = "next_slice";
    static final String NEXT_SESSION = "next_session";
    static final String USED_SPACE = "used_space";
    static final String USED_INODES = "used_inodes";
    /** Counts the commits Database.sync made: a write with no other purpose than syncing the WAL. */
    static final String SYNCS = "syncs";

    /** A directory entry: the inode a name points to and its type. */
    record Edge(long inode, FileType type) {
        boolean isDirectory() {
            return type == FileType.DIRECTORY;
        }
    }

    final Conn c;
    final long now;

    Txn(Conn c, long now) {
        this.c = c;
        this.now = now;
    }

    // ---- type codes: the S_IFMT bits shifted down, stable across Java enum changes ----

    static int code(FileType t) {
        return t.modeBits() >> 12;
    }

    static FileType type(int code) {
        return FileType.fromMode(code << 12);
    }

    static Attr attr(ResultSet rs) throws SQLException {
        return attr(rs, 1);
    }

    /** Maps the {@link #ATTR_COLUMNS} starting at column {@code first}. */
    static Attr attr(ResultSet rs, int first) throws SQLException {
        int i = first;
        return new Attr(rs.getLong(i), type(rs.getInt(i + 1)), rs.getInt(i + 2), rs.getInt(i + 3), rs.getInt(i + 4),
                rs.getLong(i + 5), rs.getLong(i + 6), rs.getLong(i + 7), rs.getLong(i + 8), rs.getLong(i + 9),
                rs.getInt(i + 10), rs.getLong(i + 11));
    }

    // ---- look-ups ----

    Attr find(long inode) throws SQLException {
        return c.one("SELECT " + ATTR_COLUMNS + " FROM nodes WHERE inode = ?", Txn::attr, inode);
    }

    Attr node(long inode) throws SQLException, FsException {
        Attr a = find(inode);
        if (a == null) {
            throw new FsException(Errno.ENOENT, "no inode " + inode);
        }
        return a;
    }

    Attr dir(long inode) throws SQLException, FsException {
        Attr a = node(inode);
        if (!a.isDirectory()) {
            throw new FsException(Errno.ENOTDIR, "inode " + inode + " is not a directory");
        }
        return a;
    }

    /** A regular file for the layout operations: EISDIR for a directory, EINVAL for other types. */
    Attr regularFile(long inode) throws SQLException, FsException {
        Attr a = node(inode);
        if (a.isDirectory()) {
            throw new FsException(Errno.EISDIR, "inode " + inode + " is a directory");
        }
        if (a.type() != FileType.FILE) {
            throw new FsException(Errno.EINVAL, "inode " + inode + " is not a regular file");
        }
        return a;
    }

    Edge edge(long parent, String name) throws SQLException {
        return c.one("SELECT inode, type FROM edges WHERE parent = ? AND name = ?",
                rs -> new Edge(rs.getLong(1), type(rs.getInt(2))), parent, name);
    }

    Edge needEdge(long parent, String name) throws SQLException, FsException {
        Edge e = edge(parent, name);
        if (e == null) {
            throw new FsException(Errno.ENOENT, name + " not found in directory " + parent);
        }
        return e;
    }

    void needFree(long parent, String name) throws SQLException, FsException {
        if (edge(parent, name) != null) {
            throw new FsException(Errno.EEXIST, name + " exists in directory " + parent);
        }
    }

    boolean hasChildren(long dir) throws SQLException {
        return c.exists("SELECT 1 FROM edges WHERE parent = ? LIMIT 1", dir);
    }

    /** EINVAL if {@code dir} is {@code inode} or lies below it: moving or copying a tree into itself. */
    void checkNotBelow(long inode, long dir) throws SQLException, FsException {
        long cur = dir;
        while (true) {
            if (cur == inode) {
                throw new FsException(Errno.EINVAL, "directory " + inode + " would end up inside itself");
            }
            if (cur == ROOT) {
                return;
            }
            long up = c.longValue("SELECT parent FROM nodes WHERE inode = ?", 0, cur);
            if (up == 0 || up == cur) {
                throw new FsException(Errno.EIO, "broken parent chain above directory " + dir);
            }
            cur = up;
        }
    }

    // ---- changes ----

    void insertNode(Attr a) throws SQLException {
        c.update("INSERT INTO nodes (" + ATTR_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", a.inode(),
                code(a.type()), a.mode(), a.uid(), a.gid(), a.nlink(), a.length(), a.atimeNs(), a.mtimeNs(),
                a.ctimeNs(), a.rdev(), a.parent());
    }

    void insertEdge(long parent, String name, long inode, FileType type) throws SQLException {
        c.update("INSERT INTO edges (parent, name, inode, type) VALUES (?, ?, ?, ?)", parent, name, inode, code(type));
    }

    void deleteEdge(long parent, String name) throws SQLException {
        c.update("DELETE FROM edges WHERE parent = ? AND name = ?", parent, name);
    }

    /** A directory's entries changed: mtime and ctime move, and its link count by {@code nlinkDelta}. */
    void touchDir(long dir, int nlinkDelta) throws SQLException {
        c.update("UPDATE nodes SET nlink = nlink + ?, mtime = ?, ctime = ? WHERE inode = ?", nlinkDelta, now, now, dir);
    }

    void touchCtime(long inode) throws SQLException {
        c.update("UPDATE nodes SET ctime = ? WHERE inode = ?", now, inode);
    }

    /**
     * Records that a name of {@code e} moved from directory {@code from} to {@code to}. A directory's parent
     * follows it; a file keeps parent 0 while it has several names (there is no single parent to report).
     */
    void moved(Edge e, long from, long to) throws SQLException {
        if (from != to) {
            c.update("UPDATE nodes SET parent = ? WHERE inode = ? AND (type = ? OR nlink = 1)", to, e.inode(),
                    code(FileType.DIRECTORY));
        }
    }

    /**
     * Drops one link of a non-directory whose entry the caller already removed. The last link of a file some
     * session holds open parks it in deleted_files until the last release; otherwise it is reclaimed.
     */
    void dropLink(long inode) throws SQLException, FsException {
        Attr a = node(inode);
        long left = a.nlink() - 1;
        if (left > 0) {
            long parent = left == 1 ? c.longValue("SELECT parent FROM edges WHERE inode = ? LIMIT 1", 0, inode) : 0;
            c.update("UPDATE nodes SET nlink = ?, parent = ?, ctime = ? WHERE inode = ?", left, parent, now, inode);
        } else if (c.exists("SELECT 1 FROM open_files WHERE inode = ? LIMIT 1", inode)) {
            c.update("UPDATE nodes SET nlink = 0, parent = 0, ctime = ? WHERE inode = ?", now, inode);
            c.update("INSERT OR REPLACE INTO deleted_files (inode, deleted) VALUES (?, ?)", inode, now);
        } else {
            reclaim(a);
        }
    }

    /** Deletes an inode with everything it owns and gives back its usage and slice references. */
    void reclaim(Attr a) throws SQLException {
        long inode = a.inode();
        if (a.type() == FileType.FILE) {
            dropChunks(inode, 0);
            add(USED_SPACE, -space(a.length()));
        }
        c.update("DELETE FROM nodes WHERE inode = ?", inode);
        c.update("DELETE FROM xattrs WHERE inode = ?", inode);
        c.update("DELETE FROM symlinks WHERE inode = ?", inode);
        c.update("DELETE FROM deleted_files WHERE inode = ?", inode);
        add(USED_INODES, -1);
    }

    /** Reclaims an unlinked inode once no session has it open any more. */
    void reclaimIfUnused(long inode) throws SQLException {
        if (c.exists("SELECT 1 FROM deleted_files WHERE inode = ?", inode)
                && !c.exists("SELECT 1 FROM open_files WHERE inode = ? LIMIT 1", inode)) {
            Attr a = find(inode);
            if (a != null) {
                reclaim(a);
            }
        }
    }

    // ---- chunks and slice references ----

    List<Slice> chunk(long inode, int index) throws SQLException {
        byte[] blob = c.one("SELECT slices FROM chunks WHERE inode = ? AND idx = ?", rs -> rs.getBytes(1), inode, index);
        return blob == null ? List.of() : SliceRecords.decode(blob);
    }

    void appendToChunk(long inode, int index, List<Slice> records) throws SQLException {
        c.update("INSERT INTO chunks (inode, idx, slices) VALUES (?, ?, ?)"
                + " ON CONFLICT (inode, idx) DO UPDATE SET slices = slices || excluded.slices",
                inode, index, SliceRecords.encode(records));
    }

    void replaceChunk(long inode, int index, List<Slice> records) throws SQLException {
        if (records.isEmpty()) {
            c.update("DELETE FROM chunks WHERE inode = ? AND idx = ?", inode, index);
        } else {
            c.update("INSERT OR REPLACE INTO chunks (inode, idx, slices) VALUES (?, ?, ?)", inode, index,
                    SliceRecords.encode(records));
        }
    }

    /** Deletes the chunks from {@code fromIndex} on, giving up the references their records held. */
    void dropChunks(long inode, int fromIndex) throws SQLException {
        List<byte[]> blobs = c.list("SELECT slices FROM chunks WHERE inode = ? AND idx >= ?", rs -> rs.getBytes(1),
                inode, fromIndex);
        if (blobs.isEmpty()) {
            return;
        }
        Map<Long, int[]> refs = new LinkedHashMap<>();
        for (byte[] b : blobs) {
            count(refs, SliceRecords.decode(b));
        }
        c.update("DELETE FROM chunks WHERE inode = ? AND idx >= ?", inode, fromIndex);
        release(refs);
    }

    /** Each record of a stored slice holds one reference: the slice's blocks live while any record does. */
    void retain(List<Slice> records) throws SQLException {
        Map<Long, int[]> refs = new LinkedHashMap<>();
        count(refs, records);
        for (Map.Entry<Long, int[]> e : refs.entrySet()) {
            c.update("INSERT INTO slice_refs (id, size, refs) VALUES (?, ?, ?)"
                    + " ON CONFLICT (id) DO UPDATE SET refs = refs + excluded.refs",
                    e.getKey(), e.getValue()[0], e.getValue()[1]);
        }
    }

    void release(List<Slice> records) throws SQLException {
        Map<Long, int[]> refs = new LinkedHashMap<>();
        count(refs, records);
        release(refs);
    }

    /** Gives up references; a slice left with none is queued for block deletion. */
    private void release(Map<Long, int[]> refs) throws SQLException {
        for (Map.Entry<Long, int[]> e : refs.entrySet()) {
            long id = e.getKey();
            long held = c.longValue("SELECT refs FROM slice_refs WHERE id = ?", -1, id);
            if (held < 0) {
                // Not counted (already queued): deleting on a guess could destroy live data.
                continue;
            }
            long left = held - e.getValue()[1];
            if (left > 0) {
                c.update("UPDATE slice_refs SET refs = ? WHERE id = ?", left, id);
            } else {
                c.update("DELETE FROM slice_refs WHERE id = ?", id);
                c.update("INSERT OR IGNORE INTO pending_slices (id, size) VALUES (?, ?)", id, e.getValue()[0]);
            }
        }
    }

    /** Per slice id: {size, number of records}. Holes (id 0) hold no reference. */
    private static void count(Map<Long, int[]> refs, List<Slice> records) {
        for (Slice s : records) {
            if (!s.isHole()) {
                refs.computeIfAbsent(s.id(), k -> new int[] {s.size(), 0})[1]++;
            }
        }
    }

    // ---- counters and limits ----

    long counter(String name) throws SQLException {
        return c.longValue("SELECT value FROM counters WHERE name = ?", 0, name);
    }

    void add(String name, long delta) throws SQLException {
        if (delta != 0) {
            c.update("UPDATE counters SET value = value + ? WHERE name = ?", delta, name);
        }
    }

    /** Reserves {@code count} numbers from a sequence counter and returns the first. */
    long allocate(String name, long count) throws SQLException {
        add(name, count);
        return counter(name) - count + 1;
    }

    void checkInodes(VolumeFormat f, long more) throws SQLException, FsException {
        if (f.inodeLimit() > 0 && counter(USED_INODES) + more > f.inodeLimit()) {
            throw new FsException(Errno.ENOSPC, "inode limit of " + f.inodeLimit() + " reached");
        }
    }

    void checkSpace(VolumeFormat f, long delta) throws SQLException, FsException {
        if (delta > 0 && f.capacityBytes() > 0 && counter(USED_SPACE) + delta > f.capacityBytes()) {
            throw new FsException(Errno.ENOSPC, "capacity of " + f.capacityBytes() + " bytes reached");
        }
    }

    /** Usage of a file: its length rounded up to 4 KiB, as a block device would count it. */
    static long space(long length) {
        return (length + 4095) & ~4095L;
    }
}
