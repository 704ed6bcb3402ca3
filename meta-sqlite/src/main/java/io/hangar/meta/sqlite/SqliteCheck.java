package io.hangar.meta.sqlite;

import static io.hangar.meta.sqlite.Txn.USED_INODES;
import static io.hangar.meta.sqlite.Txn.USED_SPACE;
import static io.hangar.meta.sqlite.Txn.code;
import static io.hangar.spi.meta.MetadataEngine.ROOT;

import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetaProblem;
import io.hangar.spi.meta.MetaProblem.Kind;
import io.hangar.spi.meta.Slice;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The engine's fsck: finds what contradicts the schema's invariants in one read transaction (a single
 * committed state, so a busy volume yields no false alarms), then applies the safe repairs in write
 * transactions. Everything is read in keyset-ordered pages; slice references are counted in passes over a
 * partition of the slice ids, so memory stays bounded however large the volume is.
 */
final class SqliteCheck {
    private static final int PAGE = 1000;
    /** Slices counted per pass: bounds the map of one pass to a few tens of MiB. */
    private static final long SLICES_PER_PASS = 250_000;
    /** Repairs kept for one run; a volume broken beyond that is repaired over several runs. */
    private static final int MAX_REPAIRS = 100_000;

    private interface Fix {
        void apply(Conn c) throws SQLException;
    }

    private record Found(MetaProblem problem, Fix fix) {
    }

    private final Database db;
    private final int chunkSize;
    private final boolean repair;
    private final Consumer<MetaProblem> report;
    private final List<Found> fixes = new ArrayList<>();

    SqliteCheck(Database db, int chunkSize, boolean repair, Consumer<MetaProblem> report) {
        this.db = db;
        this.chunkSize = chunkSize;
        this.repair = repair;
        this.report = report;
    }

    void run() throws FsException {
        db.read(c -> {
            checkEntries(c);
            checkNodes(c);
            checkReferences(c);
            return null;
        });
        for (Found f : fixes) {
            db.write(c -> {
                f.fix().apply(c);
                return null;
            });
            report.accept(new MetaProblem(f.problem().kind(), f.problem().what(), true));
        }
    }

    private void found(Kind kind, String what, Fix fix) {
        if (repair && fix != null && fixes.size() < MAX_REPAIRS) {
            fixes.add(new Found(new MetaProblem(kind, what, false), fix));
        } else {
            report.accept(new MetaProblem(kind, what, false));
        }
    }

    private record EdgeRow(long parent, String name, long inode, int type, Integer nodeType) {
    }

    /** Every entry names an existing inode of its own type. */
    private void checkEntries(Conn c) throws SQLException {
        long parent = -1;
        String name = "";
        while (true) {
            List<EdgeRow> page = c.list("SELECT e.parent, e.name, e.inode, e.type, n.type FROM edges e"
                    + " LEFT JOIN nodes n ON n.inode = e.inode WHERE (e.parent, e.name) > (?, ?)"
                    + " ORDER BY e.parent, e.name LIMIT ?",
                    rs -> new EdgeRow(rs.getLong(1), rs.getString(2), rs.getLong(3), rs.getInt(4),
                            (Integer) rs.getObject(5)), parent, name, PAGE);
            for (EdgeRow e : page) {
                String where = "entry " + e.parent() + "/" + e.name();
                if (e.nodeType() == null) {
                    found(Kind.DANGLING_ENTRY, where + " names missing inode " + e.inode(),
                            x -> x.update("DELETE FROM edges WHERE parent = ? AND name = ?", e.parent(), e.name()));
                } else if (e.nodeType() != e.type()) {
                    int actual = e.nodeType();
                    found(Kind.ENTRY_TYPE, where + " says " + Txn.type(e.type()) + ", inode " + e.inode() + " is "
                            + Txn.type(actual), x -> x.update("UPDATE edges SET type = ? WHERE parent = ? AND name = ?",
                                    actual, e.parent(), e.name()));
                }
            }
            if (page.size() < PAGE) {
                return;
            }
            parent = page.get(page.size() - 1).parent();
            name = page.get(page.size() - 1).name();
        }
    }

    private record NodeRow(long inode, int type, long nlink, long length, long parent) {
    }

    /** Link counts, parents, reachability and the usage counters. */
    private void checkNodes(Conn c) throws SQLException {
        int dir = code(FileType.DIRECTORY);
        int file = code(FileType.FILE);
        long space = 0;
        long inodes = 0;
        long after = 0;
        while (true) {
            List<NodeRow> page = c.list("SELECT inode, type, nlink, length, parent FROM nodes WHERE inode > ?"
                    + " ORDER BY inode LIMIT ?", rs -> new NodeRow(rs.getLong(1), rs.getInt(2), rs.getLong(3),
                            rs.getLong(4), rs.getLong(5)), after, PAGE);
            for (NodeRow n : page) {
                inodes++;
                if (n.type() == file) {
                    space += Txn.space(n.length());
                }
                long names = c.longValue("SELECT count(*) FROM edges WHERE inode = ?", 0, n.inode());
                long only = names == 1 ? c.longValue("SELECT parent FROM edges WHERE inode = ?", 0, n.inode()) : 0;
                boolean parked = c.exists("SELECT 1 FROM deleted_files WHERE inode = ?", n.inode());
                String what = "inode " + n.inode();
                if (n.type() == dir) {
                    long expected = 2 + c.longValue("SELECT count(*) FROM edges e JOIN nodes d ON d.inode = e.inode"
                            + " WHERE e.parent = ? AND d.type = ?", 0, n.inode(), dir);
                    linkCount(what + " (directory)", n, expected);
                    if (n.inode() == ROOT) {
                        continue;
                    }
                    if (names == 0) {
                        found(Kind.ORPHAN_INODE, what + " is a directory no entry names", null);
                    } else if (names > 1) {
                        found(Kind.LINK_COUNT, what + " is a directory with " + names + " names", null);
                    } else if (n.parent() != only) {
                        parent(what, n, only);
                    }
                } else if (names == 0) {
                    if (!parked) {
                        found(Kind.ORPHAN_INODE, what + " (" + Txn.type(n.type()) + ", " + n.length()
                                + " bytes) has no name and is not open after its last unlink", null);
                        continue;
                    }
                    if (!c.exists("SELECT 1 FROM open_files WHERE inode = ? LIMIT 1", n.inode())) {
                        // Nothing will ever release it: reclaiming is a decision for the operator.
                        found(Kind.ORPHAN_INODE, what + " was unlinked while open, but no session holds it open",
                                null);
                    }
                    if (n.nlink() != 0) {
                        linkCount(what + " (unlinked, open)", n, 0);
                    }
                } else {
                    linkCount(what, n, names);
                    if (n.parent() != only) {
                        parent(what, n, only);
                    }
                    if (parked) {
                        found(Kind.ORPHAN_INODE, what + " has names but is listed as deleted",
                                x -> x.update("DELETE FROM deleted_files WHERE inode = ?", n.inode()));
                    }
                }
            }
            if (page.size() < PAGE) {
                break;
            }
            after = page.get(page.size() - 1).inode();
        }
        counter(c, USED_SPACE, "used space", space);
        counter(c, USED_INODES, "used inodes", inodes);
    }

    private void linkCount(String what, NodeRow n, long expected) {
        if (n.nlink() != expected) {
            found(Kind.LINK_COUNT, what + " has nlink " + n.nlink() + ", names say " + expected,
                    x -> x.update("UPDATE nodes SET nlink = ? WHERE inode = ?", expected, n.inode()));
        }
    }

    private void parent(String what, NodeRow n, long expected) {
        found(Kind.PARENT, what + " names parent " + n.parent() + ", its entry is in " + expected,
                x -> x.update("UPDATE nodes SET parent = ? WHERE inode = ?", expected, n.inode()));
    }

    private void counter(Conn c, String counter, String label, long actual) throws SQLException {
        long recorded = c.longValue("SELECT value FROM counters WHERE name = ?", 0, counter);
        if (recorded != actual) {
            found(Kind.USAGE, label + " is " + recorded + ", the files add up to " + actual,
                    x -> x.update("UPDATE counters SET value = ? WHERE name = ?", actual, counter));
        }
    }

    /** A chunk with its inode's type and length (null type: no such inode). */
    private record ChunkRow(long inode, int idx, byte[] slices, Integer type, long length) {
    }

    private record RefRow(long id, int size, long refs, boolean pending) {
    }

    /**
     * Each pass counts the records of the slices with {@code id % passes == pass} over every chunk, then
     * compares them with slice_refs and pending_slices of the same partition. A slice is in exactly one of
     * the two while records name it, in pending_slices alone once none does.
     */
    private void checkReferences(Conn c) throws SQLException {
        long slices = c.longValue("SELECT (SELECT count(*) FROM slice_refs) + (SELECT count(*) FROM pending_slices)", 0);
        int passes = (int) Math.max(1, (slices + SLICES_PER_PASS - 1) / SLICES_PER_PASS);
        for (int pass = 0; pass < passes; pass++) {
            Map<Long, long[]> counted = new HashMap<>(); // id -> {size, records}
            long inode = -1;
            int idx = -1;
            while (true) {
                List<ChunkRow> page = c.list("SELECT k.inode, k.idx, k.slices, n.type, n.length FROM chunks k"
                        + " LEFT JOIN nodes n ON n.inode = k.inode WHERE (k.inode, k.idx) > (?, ?)"
                        + " ORDER BY k.inode, k.idx LIMIT ?", rs -> new ChunkRow(rs.getLong(1), rs.getInt(2),
                                rs.getBytes(3), (Integer) rs.getObject(4), rs.getLong(5)), inode, idx, PAGE);
                for (ChunkRow row : page) {
                    if (pass == 0) {
                        checkChunk(row);
                    }
                    for (Slice s : SliceRecords.decode(row.slices())) {
                        if (pass == 0) {
                            checkRecord(row, s);
                        }
                        if (!s.isHole() && Math.floorMod(s.id(), passes) == pass) {
                            counted.computeIfAbsent(s.id(), k -> new long[] {s.size(), 0})[1]++;
                        }
                    }
                }
                if (page.size() < PAGE) {
                    break;
                }
                inode = page.get(page.size() - 1).inode();
                idx = page.get(page.size() - 1).idx();
            }
            Set<Long> listed = new HashSet<>();
            long after = -1;
            while (true) {
                List<RefRow> page = c.list("SELECT id, size, refs, 0 FROM slice_refs WHERE id > ? AND id % ? = ?"
                        + " UNION ALL SELECT id, size, 0, 1 FROM pending_slices WHERE id > ? AND id % ? = ?"
                        + " ORDER BY 1 LIMIT ?", rs -> new RefRow(rs.getLong(1), rs.getInt(2), rs.getLong(3),
                                rs.getInt(4) == 1), after, passes, pass, after, passes, pass, PAGE);
                for (RefRow r : page) {
                    long[] n = counted.get(r.id());
                    long records = n == null ? 0 : n[1];
                    listed.add(r.id());
                    if (r.pending()) {
                        if (records > 0) {
                            // Queued for deletion while records still name it: take it back before gc deletes it.
                            found(Kind.REFERENCE_COUNT, "slice " + r.id() + " is queued for deletion but " + records
                                    + " records name it", x -> {
                                        x.update("DELETE FROM pending_slices WHERE id = ?", r.id());
                                        x.update("INSERT OR REPLACE INTO slice_refs (id, size, refs) VALUES (?, ?, ?)",
                                                r.id(), r.size(), records);
                                    });
                        }
                    } else if (records != r.refs()) {
                        // With no record left, the repair queues it (and a queued row beside it is then right).
                        found(Kind.REFERENCE_COUNT, "slice " + r.id() + " counts " + r.refs() + " references, "
                                + records + " records name it", x -> {
                                    if (records == 0) {
                                        x.update("DELETE FROM slice_refs WHERE id = ?", r.id());
                                        x.update("INSERT OR IGNORE INTO pending_slices (id, size) VALUES (?, ?)", r.id(),
                                                r.size());
                                    } else {
                                        x.update("UPDATE slice_refs SET refs = ? WHERE id = ?", records, r.id());
                                    }
                                });
                    }
                }
                if (page.size() < PAGE) {
                    break;
                }
                after = page.get(page.size() - 1).id();
            }
            for (Map.Entry<Long, long[]> e : counted.entrySet()) {
                if (listed.contains(e.getKey())) {
                    continue;
                }
                long id = e.getKey();
                long size = e.getValue()[0];
                long records = e.getValue()[1];
                found(Kind.SLICE_INDEX, "slice " + id + " is named by " + records + " records but not counted",
                        x -> x.update("INSERT OR REPLACE INTO slice_refs (id, size, refs) VALUES (?, ?, ?)", id, size,
                                records));
            }
        }
    }

    /** A chunk belongs to a regular file, lies before its end, and holds whole 24-byte records. */
    private void checkChunk(ChunkRow row) {
        String where = "chunk " + row.idx() + " of inode " + row.inode();
        if (row.slices().length % SliceRecords.RECORD != 0) {
            found(Kind.BAD_RECORD, where + " holds " + row.slices().length + " bytes, not whole records", null);
        }
        if (row.type() == null || row.type() != code(FileType.FILE)) {
            found(Kind.BAD_RECORD, where + " belongs to " + (row.type() == null ? "no inode"
                    : "an inode of type " + Txn.type(row.type())), null);
        } else if ((long) row.idx() * chunkSize >= row.length()) {
            found(Kind.BAD_RECORD, where + " lies past the file's length " + row.length(), null);
        }
    }

    private void checkRecord(ChunkRow row, Slice s) {
        if (s.pos() < 0 || s.len() <= 0 || s.off() < 0 || s.size() <= 0 || (long) s.pos() + s.len() > chunkSize
                || (!s.isHole() && (long) s.off() + s.len() > s.size())) {
            found(Kind.BAD_RECORD, "chunk " + row.idx() + " of inode " + row.inode() + " holds impossible record " + s,
                    null);
        }
    }
}
