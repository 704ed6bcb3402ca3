package io.hangar.meta.sqlite;

import static io.hangar.spi.meta.MetadataEngine.ROOT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.fs.Errno;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetaProblem;
import io.hangar.spi.meta.MetaProblem.Kind;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.Slice;
import io.hangar.spi.meta.SliceRef;
import io.hangar.spi.meta.StoredSlice;
import io.hangar.spi.meta.VolumeFormat;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteConfig;

/**
 * The engine's check against corruption injected with SQL on the file, through a connection of its own (as
 * another process, or a broken disk, would leave it): each test breaks one thing, and the check must name
 * exactly that problem, repair it if it can be repaired without guessing, and leave a volume a fresh engine
 * finds clean. Orphans and impossible records are only named, so they are still there afterwards.
 */
class SqliteCheckTest {
    private static final int CHUNK = 1 << 20;

    @TempDir
    Path dir;
    private MetadataEngine meta;
    private final List<MetadataEngine> opened = new ArrayList<>();
    /** /d (directory), /d/f (two chunks), /g (one slice), /h and /d/h2 (one file), /e (empty directory). */
    private long d;
    private long f;
    private long g;
    private long h;
    private long e;
    private Slice sg;

    private Path db() {
        return dir.resolve("meta.db");
    }

    private MetadataEngine engine() throws FsException {
        MetadataEngine m = SqliteMetadataEngine.open(db());
        opened.add(m);
        return m;
    }

    @BeforeEach
    void volume() throws Exception {
        meta = engine();
        meta.format(new VolumeFormat("check", UUID.randomUUID().toString(), "file:///tmp/x", 1 << 16, CHUNK, 0, 0, 1L));
        d = mkdir(ROOT, "d");
        f = mkfile(d, "f");
        write(f, 0, 0, 5000);
        write(f, 1, 0, 100);
        g = mkfile(ROOT, "g");
        sg = write(g, 0, 0, 100);
        h = mkfile(ROOT, "h");
        write(h, 0, 0, 10);
        meta.link(h, d, "h2");
        e = mkdir(ROOT, "e");
        assertEquals(List.of(), check(meta, false), "the volume is consistent before the test breaks it");
    }

    @AfterEach
    void close() {
        opened.forEach(MetadataEngine::close);
    }

    private long mkdir(long parent, String name) throws FsException {
        return meta.mknod(parent, name, FileType.DIRECTORY, 0755, 0, 0, 0, null).inode();
    }

    private long mkfile(long parent, String name) throws FsException {
        return meta.mknod(parent, name, FileType.FILE, 0644, 0, 0, 0, null).inode();
    }

    private Slice write(long inode, int chunk, int pos, int len) throws FsException {
        Slice s = new Slice(meta.newSliceIds(1), len, 0, len, pos);
        meta.writeSlice(inode, chunk, s, 1L);
        return s;
    }

    /** Runs statements on the file through a connection of its own, in one transaction. */
    private void sql(String statement, Object... args) throws Exception {
        try (Connection c = new SQLiteConfig().createConnection("jdbc:sqlite:" + db());
                PreparedStatement p = c.prepareStatement(statement)) {
            for (int i = 0; i < args.length; i++) {
                p.setObject(i + 1, args[i]);
            }
            p.executeUpdate();
        }
    }

    private static List<MetaProblem> check(MetadataEngine m, boolean repair) throws FsException {
        List<MetaProblem> out = new ArrayList<>();
        m.check(repair, out::add);
        return out;
    }

    /**
     * The check finds exactly one problem of {@code kind} whose description names {@code subject}; the repair
     * reports it fixed; afterwards a fresh engine finds nothing.
     */
    private MetaProblem assertRepaired(Kind kind, Object subject) throws Exception {
        List<MetaProblem> found = check(meta, false);
        assertEquals(1, found.size(), found.toString());
        MetaProblem p = found.get(0);
        assertEquals(kind, p.kind(), p.toString());
        assertTrue(p.what().contains(String.valueOf(subject)), p.what() + " names " + subject);
        assertFalse(p.repaired());
        assertEquals(found, check(meta, false), "checking alone changes nothing");
        assertEquals(List.of(new MetaProblem(kind, p.what(), true)), check(meta, true));
        assertEquals(List.of(), check(engine(), false), "a fresh engine finds the volume repaired");
        return p;
    }

    /** As {@link #assertRepaired}, for what the check only names: the repair leaves it, and says so. */
    private void assertNamedOnly(Kind kind, Object subject) throws Exception {
        List<MetaProblem> found = check(meta, false);
        assertEquals(1, found.size(), found.toString());
        MetaProblem p = found.get(0);
        assertEquals(kind, p.kind(), p.toString());
        assertTrue(p.what().contains(String.valueOf(subject)), p.what() + " names " + subject);
        assertFalse(p.repaired());
        assertEquals(found, check(meta, true), "not repaired");
        assertEquals(found, check(engine(), false), "still there for a fresh engine");
    }

    private static byte[] record(Slice s) {
        return SliceRecords.encode(List.of(s));
    }

    // ---- entries ----

    @Test
    void anEntryNamingAMissingInodeIsDanglingAndRemoved() throws Exception {
        sql("INSERT INTO edges (parent, name, inode, type) VALUES (?, 'ghost', 999, ?)", ROOT, Txn.code(FileType.FILE));
        assertRepaired(Kind.DANGLING_ENTRY, 999);
        assertEquals(Errno.ENOENT, assertFs(() -> meta.lookup(ROOT, "ghost")).errno());
    }

    @Test
    void anEntryOfTheWrongTypeIsRewrittenToItsInodesType() throws Exception {
        // A file's entry says directory: the root's link count follows the inodes, so it is not a second problem.
        sql("UPDATE edges SET type = ? WHERE parent = ? AND name = 'g'", Txn.code(FileType.DIRECTORY), ROOT);
        assertRepaired(Kind.ENTRY_TYPE, g);
        assertEquals(FileType.FILE, meta.readdir(ROOT, "f", 1, false).get(0).type());
    }

    // ---- link counts and parents ----

    @Test
    void aFilesLinkCountIsSetToItsNames() throws Exception {
        sql("UPDATE nodes SET nlink = 5 WHERE inode = ?", g);
        assertRepaired(Kind.LINK_COUNT, g);
        assertEquals(1, meta.getattr(g).nlink());
    }

    @Test
    void aDirectorysLinkCountIsSetToTwoPlusItsSubdirectories() throws Exception {
        sql("UPDATE nodes SET nlink = 7 WHERE inode = ?", ROOT);
        assertRepaired(Kind.LINK_COUNT, "inode " + ROOT);
        assertEquals(4, meta.getattr(ROOT).nlink());
    }

    @Test
    void aParentThatIsNotTheEntrysDirectoryIsCorrected() throws Exception {
        sql("UPDATE nodes SET parent = ? WHERE inode = ?", d, g);
        assertRepaired(Kind.PARENT, g);
        assertEquals(ROOT, meta.getattr(g).parent());
    }

    @Test
    void aFileWithSeveralNamesHasNoSingleParent() throws Exception {
        sql("UPDATE nodes SET parent = ? WHERE inode = ?", ROOT, h);
        assertRepaired(Kind.PARENT, h);
        assertEquals(0, meta.getattr(h).parent());
        meta.unlink(ROOT, "h");
        assertEquals(d, meta.getattr(h).parent());
    }

    // ---- orphans: named, never reclaimed by the check ----

    @Test
    void aFileNoEntryNamesIsAnOrphan() throws Exception {
        sql("DELETE FROM edges WHERE parent = ? AND name = 'g'", ROOT);
        assertNamedOnly(Kind.ORPHAN_INODE, g);
    }

    @Test
    void aDirectoryNoEntryNamesIsAnOrphan() throws Exception {
        sql("DELETE FROM edges WHERE parent = ? AND name = 'e'", ROOT);
        sql("UPDATE nodes SET nlink = nlink - 1 WHERE inode = ?", ROOT);
        assertNamedOnly(Kind.ORPHAN_INODE, e);
    }

    @Test
    void aFileUnlinkedWhileOpenThatNoSessionHoldsIsAnOrphan() throws Exception {
        long s = meta.openSession("holder");
        meta.open(s, g);
        meta.unlink(ROOT, "g");
        assertEquals(List.of(), check(meta, false), "open after its last unlink: no orphan");
        sql("DELETE FROM open_files WHERE inode = ?", g);
        assertNamedOnly(Kind.ORPHAN_INODE, g);
    }

    // ---- slice references and the slice index ----

    @Test
    void aWrongReferenceCountIsSetToTheRecordsNamingTheSlice() throws Exception {
        sql("UPDATE slice_refs SET refs = 7 WHERE id = ?", sg.id());
        assertRepaired(Kind.REFERENCE_COUNT, sg.id());
        assertEquals(new StoredSlice(sg.id(), sg.size(), 1), meta.scanSlices(sg.id() - 1, 1).get(0));
    }

    @Test
    void aSliceQueuedForDeletionWhileRecordsNameItIsTakenBack() throws Exception {
        sql("INSERT INTO pending_slices (id, size) VALUES (?, ?)", sg.id(), sg.size());
        assertRepaired(Kind.REFERENCE_COUNT, sg.id());
        assertEquals(List.of(), meta.pendingSliceDeletes(10), "gc must not delete the blocks of a named slice");
        assertEquals(new StoredSlice(sg.id(), sg.size(), 1), meta.scanSlices(sg.id() - 1, 1).get(0));
    }

    @Test
    void aCountedSliceNoRecordNamesIsQueuedForDeletion() throws Exception {
        sql("INSERT INTO slice_refs (id, size, refs) VALUES (4242, 10, 1)");
        assertRepaired(Kind.REFERENCE_COUNT, 4242);
        assertEquals(List.of(new SliceRef(4242, 10)), meta.pendingSliceDeletes(10));
    }

    @Test
    void aNamedSliceMissingFromTheIndexIsCountedAgain() throws Exception {
        sql("DELETE FROM slice_refs WHERE id = ?", sg.id());
        assertRepaired(Kind.SLICE_INDEX, sg.id());
        assertEquals(new StoredSlice(sg.id(), sg.size(), 1), meta.scanSlices(sg.id() - 1, 1).get(0));
    }

    // ---- usage ----

    @Test
    void usedSpaceIsSetToWhatTheFilesAddUpTo() throws Exception {
        long used = meta.statfs().usedBytes();
        sql("UPDATE counters SET value = 12345 WHERE name = 'used_space'");
        assertRepaired(Kind.USAGE, 12345);
        assertEquals(used, meta.statfs().usedBytes());
    }

    @Test
    void usedInodesIsSetToTheInodesThereAre() throws Exception {
        sql("UPDATE counters SET value = 99 WHERE name = 'used_inodes'");
        assertRepaired(Kind.USAGE, 99);
        assertEquals(6, meta.statfs().usedInodes(), "the root, d, d/f, g, h and e");
    }

    // ---- impossible records: named, never guessed at ----

    @Test
    void aRecordOfNoLengthIsBad() throws Exception {
        sql("UPDATE chunks SET slices = slices || ? WHERE inode = ? AND idx = 0", record(new Slice(0, 10, 0, 0, 5)), g);
        assertNamedOnly(Kind.BAD_RECORD, "inode " + g);
    }

    @Test
    void aRecordPastTheEndOfItsChunkIsBad() throws Exception {
        sql("UPDATE chunks SET slices = slices || ? WHERE inode = ? AND idx = 0",
                record(Slice.hole(CHUNK - 10, 20)), g);
        assertNamedOnly(Kind.BAD_RECORD, "inode " + g);
    }

    @Test
    void aChunkOfBrokenLengthIsBadRatherThanReadShort() throws Exception {
        sql("UPDATE chunks SET slices = slices || x'010203040506' WHERE inode = ? AND idx = 0", g);
        assertNamedOnly(Kind.BAD_RECORD, "inode " + g);
    }

    @Test
    void aChunkOfNoFileIsBad() throws Exception {
        sql("INSERT INTO chunks (inode, idx, slices) VALUES (999, 0, ?)", record(Slice.hole(0, 10)));
        assertNamedOnly(Kind.BAD_RECORD, 999);
    }

    @Test
    void aChunkPastTheEndOfItsFileIsBad() throws Exception {
        sql("INSERT INTO chunks (inode, idx, slices) VALUES (?, 3, ?)", g, record(Slice.hole(0, 10)));
        assertNamedOnly(Kind.BAD_RECORD, "chunk 3 of inode " + g);
    }

    // ---- many at once ----

    @Test
    void oneRepairFixesThousandsOfProblems() throws Exception {
        try (Connection c = new SQLiteConfig().createConnection("jdbc:sqlite:" + db())) {
            try (Statement s = c.createStatement()) {
                s.execute("BEGIN IMMEDIATE");
            }
            try (PreparedStatement p = c.prepareStatement(
                    "INSERT INTO edges (parent, name, inode, type) VALUES (?, ?, ?, ?)")) {
                for (int i = 0; i < 2500; i++) {
                    p.setLong(1, e);
                    p.setString(2, "ghost" + i);
                    p.setLong(3, 100_000 + i);
                    p.setInt(4, Txn.code(FileType.FILE));
                    p.addBatch();
                }
                p.executeBatch();
            }
            try (Statement s = c.createStatement()) {
                s.execute("COMMIT");
            }
        }
        List<MetaProblem> found = check(meta, false);
        assertEquals(2500, found.size());
        assertTrue(found.stream().allMatch(p -> p.kind() == Kind.DANGLING_ENTRY));
        List<MetaProblem> repaired = check(meta, true);
        assertEquals(2500, repaired.size());
        assertTrue(repaired.stream().allMatch(MetaProblem::repaired));
        assertEquals(List.of(), check(engine(), false));
        assertEquals(List.of(), meta.readdir(e, null, 10, false));
    }

    private static FsException assertFs(org.junit.jupiter.api.function.Executable op) {
        return org.junit.jupiter.api.Assertions.assertThrows(FsException.class, op);
    }
}
