package io.hangar.meta.sqlite;

import static io.hangar.spi.meta.MetadataEngine.ROOT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.fs.DirEntry;
import io.hangar.fs.Entry;
import io.hangar.fs.Errno;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.fs.SetAttr;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.MetadataEngineProvider;
import io.hangar.spi.meta.Slice;
import io.hangar.spi.meta.VolumeFormat;
import io.hangar.tck.meta.MetadataEngineTck;
import io.hangar.tck.meta.TreeSnapshot;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteConfig;

/** The conformance kit on a fresh file per test, plus what only a SQLite file can show. */
class SqliteMetadataEngineTest extends MetadataEngineTck {
    @TempDir
    Path dir;

    private URI url() {
        return URI.create("sqlite://" + dir.resolve("meta.db"));
    }

    @Override
    protected MetadataEngine newEngine() throws Exception {
        return new SqliteMetadataEngineProvider().open(url());
    }

    @Override
    protected MetadataEngine reopen() throws Exception {
        return new SqliteMetadataEngineProvider().open(url());
    }

    private VolumeFormat limited(long capacity, long inodes) {
        return new VolumeFormat("limited", UUID.randomUUID().toString(), "file:///tmp/x", 1 << 16, 1 << 20, capacity,
                inodes, 1L);
    }

    /** Another process's connection holding the write lock until closed. */
    private Connection holdWriteLock() throws Exception {
        Connection c = new SQLiteConfig().createConnection("jdbc:sqlite:" + dir.resolve("meta.db"));
        try (Statement s = c.createStatement()) {
            s.execute("BEGIN IMMEDIATE");
        }
        return c;
    }

    // ---- files and URLs ----

    @Test
    void urlsNameAbsoluteAndRelativeFiles() throws Exception {
        Path cwd = Path.of("").toAbsolutePath();
        assertEquals(Path.of("/var/lib/h/meta.db"), SqliteUrl.path(URI.create("sqlite:///var/lib/h/meta.db")));
        assertEquals(Path.of("/var/lib/h/meta.db"), SqliteUrl.path(URI.create("sqlite:/var/lib/h/meta.db")));
        assertEquals(Path.of("/a b/m.db"), SqliteUrl.path(URI.create("sqlite:///a%20b/m.db")));
        assertEquals(cwd.resolve("meta.db"), SqliteUrl.path(URI.create("sqlite:meta.db")));
        assertEquals(cwd.resolve("meta.db"), SqliteUrl.path(URI.create("sqlite://meta.db")));
        assertEquals(cwd.resolve("vols/meta.db"), SqliteUrl.path(URI.create("sqlite://vols/meta.db")));
        for (String bad : List.of("sqlite:///x/meta.db?cache=1", "sqlite:///x/", "sqlite://user@h/x.db",
                "sqlite://h:99/x.db", "redis://h/1", "sqlite:///", "sqlite:///x%3Fmode=ro/meta.db")) {
            assertEquals(Errno.EINVAL, assertThrowsFs(() -> SqliteUrl.path(URI.create(bad))).errno(), bad);
        }
    }

    @Test
    void providerIsFoundByServiceLoader() {
        List<MetadataEngineProvider> found = ServiceLoader.load(MetadataEngineProvider.class).stream()
                .map(ServiceLoader.Provider::get).filter(p -> p.schemes().contains("sqlite")).toList();
        assertEquals(1, found.size());
        assertTrue(found.get(0) instanceof SqliteMetadataEngineProvider);
    }

    @Test
    void missingDirectoriesAreCreated() throws Exception {
        Path nested = dir.resolve("a/b/meta.db");
        try (MetadataEngine m = SqliteMetadataEngine.open(nested)) {
            assertTrue(m.load().isEmpty());
        }
        assertTrue(Files.isRegularFile(nested));
    }

    @Test
    void aFileOfAnotherApplicationIsRefused() throws Exception {
        Path other = dir.resolve("other.db");
        try (Connection c = new SQLiteConfig().createConnection("jdbc:sqlite:" + other);
                Statement s = c.createStatement()) {
            s.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)");
        }
        FsException e = assertThrowsFs(() -> SqliteMetadataEngine.open(other));
        assertEquals(Errno.EIO, e.errno());
        assertTrue(e.getMessage().contains("other than a Hangar volume"), e.getMessage());
    }

    @Test
    void aNewerSchemaIsRefused() throws Exception {
        meta.close();
        try (Connection c = new SQLiteConfig().createConnection("jdbc:sqlite:" + dir.resolve("meta.db"));
                Statement s = c.createStatement()) {
            s.execute("PRAGMA user_version = " + (Schema.VERSION + 1));
        }
        FsException e = assertThrowsFs(this::reopen);
        assertEquals(Errno.EIO, e.errno());
        assertTrue(e.getMessage().contains("newer"), e.getMessage());
        // Back to this engine's version, so the kit's check after the test can open the file.
        try (Connection c = new SQLiteConfig().createConnection("jdbc:sqlite:" + dir.resolve("meta.db"));
                Statement s = c.createStatement()) {
            s.execute("PRAGMA user_version = " + Schema.VERSION);
        }
    }

    @Test
    void aFileThatCannotBeOpenedIsEio() throws Exception {
        Path notADir = dir.resolve("plain");
        Files.writeString(notADir, "x");
        assertEquals(Errno.EIO, assertThrowsFs(() -> SqliteMetadataEngine.open(notADir.resolve("meta.db"))).errno());
        Path garbage = dir.resolve("garbage.db");
        Files.write(garbage, new byte[8192]);
        Files.writeString(garbage, "definitely not a database file, just text");
        assertEquals(Errno.EIO, assertThrowsFs(() -> SqliteMetadataEngine.open(garbage)).errno());
    }

    @Test
    void aClosedEngineFailsWithEio() throws Exception {
        meta.close();
        assertEquals(Errno.EIO, assertThrowsFs(() -> meta.getattr(ROOT)).errno());
        assertEquals(Errno.EIO, assertThrowsFs(() -> meta.mknod(ROOT, "x", FileType.FILE, 0644, 0, 0, 0, null)).errno());
        meta.close();
    }

    // ---- transactions ----

    /** The commits Database.sync made (the syncs counter), read through a connection of its own. */
    private long syncs() throws Exception {
        try (Database db = Database.open(dir.resolve("meta.db"), 1000)) {
            return db.read(c -> c.longValue("SELECT value FROM counters WHERE name = ?", 0, Txn.SYNCS));
        }
    }

    @Test
    void aCreatedFileOwesOneSyncUntilASyncedCommitWrites() throws Exception {
        long session = meta.openSession("test");
        long s0 = syncs();
        meta.sync();
        assertEquals(s0, syncs(), "nothing owed: sync commits nothing");
        meta.createFile(ROOT, "a", 0644, UID, GID);
        meta.sync();
        assertEquals(s0 + 1, syncs(), "the creation was not synced: sync commits once");
        meta.sync();
        assertEquals(s0 + 1, syncs(), "and then nothing is owed");
        Entry b = meta.createFile(ROOT, "b", 0644, UID, GID);
        meta.setattr(b.inode(), SetAttr.mode(0600));
        meta.sync();
        assertEquals(s0 + 1, syncs(), "a synced commit after the creation (a chmod) made it durable");
        Entry c = meta.createFile(ROOT, "c", 0644, UID, GID);
        meta.open(session, c.inode());
        meta.release(session, c.inode());
        meta.sync();
        assertEquals(s0 + 2, syncs(), "open and release are not synced either: the creation still needed one");
        meta.close();
        meta = reopen();
        assertEquals(List.of("a", "b", "c"), meta.readdir(ROOT, null, 10, false).stream().map(DirEntry::name)
                .toList());
    }

    private static void await(java.util.function.BooleanSupplier condition, String what) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(5);
        }
    }

    private static long setting(Database db, String name) throws FsException {
        return db.read(c -> c.longValue("SELECT COUNT(*) FROM settings WHERE name = ?", 0, name));
    }

    /**
     * Writers that queue while one commits are committed in one transaction, each with its own outcome; an
     * SQL error in one body sends the whole group back to run alone, so nothing is applied twice.
     */
    @Test
    void waitingWritersAreCommittedTogetherEachWithItsOwnOutcome() throws Exception {
        meta.close();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try (Database db = Database.open(dir.resolve("meta.db"), 20_000)) {
            for (int r = 0; r < 2; r++) {
                int round = r;
                boolean sqlError = round == 1;
                Connection other = holdWriteLock();
                long t0 = db.transactions();
                long d0 = db.drained();
                // The first writer takes the queue's lock and waits in BEGIN for the other connection.
                var first = pool.submit(() -> db.write(c -> c.update(
                        "INSERT INTO settings (name, value) VALUES (?, 'x')", "first" + round)));
                await(() -> db.drained() == d0 + 1, "the first writer is in its transaction");
                var a = pool.submit(() -> db.write(c -> c.update(
                        "INSERT INTO settings (name, value) VALUES (?, 'x')", "a" + round)));
                var b = pool.submit(() -> db.writeUnsynced(c -> c.update(
                        "INSERT INTO settings (name, value) VALUES (?, 'x')", "b" + round)));
                var c3 = pool.submit(() -> db.write(c -> {
                    c.update("INSERT INTO settings (name, value) VALUES (?, 'x')", "failed" + round);
                    if (sqlError) {
                        // A duplicate key (the first writer's, committed before the group): SQLite's own error,
                        // not an errno of the body.
                        return c.update("INSERT INTO settings (name, value) VALUES (?, 'y')", "first" + round);
                    }
                    throw new FsException(Errno.EEXIST, "the body refuses");
                }));
                await(() -> db.waitingWriters() == 3, "three writers wait behind the first");
                other.createStatement().execute("ROLLBACK");
                other.close();
                assertEquals(1, first.get(30, TimeUnit.SECONDS));
                assertEquals(1, a.get(30, TimeUnit.SECONDS));
                assertEquals(1, b.get(30, TimeUnit.SECONDS));
                var failure = org.junit.jupiter.api.Assertions.assertThrows(
                        java.util.concurrent.ExecutionException.class, () -> c3.get(30, TimeUnit.SECONDS));
                FsException fe = (FsException) failure.getCause();
                assertEquals(sqlError ? Errno.EIO : Errno.EEXIST, fe.errno(), fe.toString());
                assertEquals(1, setting(db, "first" + round));
                assertEquals(1, setting(db, "a" + round), "applied once");
                assertEquals(1, setting(db, "b" + round), "applied once");
                assertEquals(0, setting(db, "failed" + round), "the failed body's own change is rolled back");
                // Round 0: the first alone, then one group. Round 1: the group rolled back, a and b alone.
                assertEquals(sqlError ? 3 : 2, db.transactions() - t0);
            }
        } finally {
            pool.shutdownNow();
        }
        meta = reopen();
    }

    /** Two engines on one file in one JVM share the queue: one's leader commits the other's waiting body. */
    @Test
    void aLeaderCommitsTheWaitersOfAnotherEngineOnTheSameFile() throws Exception {
        meta.close();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(3);
        try (Database a = Database.open(dir.resolve("meta.db"), 20_000);
                Database b = Database.open(dir.resolve("meta.db"), 20_000)) {
            Connection other = holdWriteLock();
            long ta = a.transactions();
            long tb = b.transactions();
            long d0 = a.drained();
            var first = pool.submit(() -> a.write(c -> c.update(
                    "INSERT INTO settings (name, value) VALUES ('first', 'x')")));
            await(() -> a.drained() == d0 + 1, "a's first writer is in its transaction");
            var ofB = pool.submit(() -> b.write(c -> c.update(
                    "INSERT INTO settings (name, value) VALUES ('b', 'x')")));
            var ofA = pool.submit(() -> a.writeUnsynced(c -> c.update(
                    "INSERT INTO settings (name, value) VALUES ('a', 'x')")));
            await(() -> a.waitingWriters() == 2 && b.waitingWriters() == 2, "both wait in the file's queue");
            other.createStatement().execute("ROLLBACK");
            other.close();
            assertEquals(1, first.get(30, TimeUnit.SECONDS));
            assertEquals(1, ofB.get(30, TimeUnit.SECONDS));
            assertEquals(1, ofA.get(30, TimeUnit.SECONDS));
            assertEquals(1, setting(a, "a"));
            assertEquals(1, setting(b, "b"));
            assertEquals(1, setting(b, "first"));
            // The first alone, then the two waiting bodies as one group, whichever engine's thread led it
            // (with a queue per engine it would be three: each engine's body in a transaction of its own).
            assertEquals(2, a.transactions() - ta + b.transactions() - tb);
        } finally {
            pool.shutdownNow();
        }
        meta = reopen();
    }

    /** Many writers at once (so in groups): every create lands once, every refused one is refused alone. */
    @Test
    void concurrentWritersEachGetTheirOwnOutcome() throws Exception {
        int threads = 8;
        int files = 150;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        try {
            List<java.util.concurrent.Future<Integer>> refused = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                refused.add(pool.submit(() -> {
                    int n = 0;
                    for (int i = 0; i < files; i++) {
                        meta.mknod(ROOT, "t" + id + "-" + i, FileType.FILE, 0644, UID, GID, 0, null);
                        if (i % 10 == 9) {
                            try {
                                meta.mknod(ROOT, "t" + id + "-" + (i - 5), FileType.FILE, 0644, UID, GID, 0, null);
                            } catch (FsException e) {
                                assertEquals(Errno.EEXIST, e.errno());
                                n++;
                            }
                        }
                    }
                    return n;
                }));
            }
            for (var f : refused) {
                assertEquals(files / 10, f.get(60, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
        meta.close();
        meta = reopen();
        assertEquals(threads * files, meta.readdir(ROOT, null, threads * files + 10, false).size());
        assertEquals(1 + threads * files, meta.statfs().usedInodes());
    }

    @Test
    void aTransactionThatThrowsMidwayRollsBack() throws Exception {
        meta.close();
        try (Database db = Database.open(dir.resolve("meta.db"), 1000)) {
            long before = db.read(c -> c.longValue("SELECT value FROM counters WHERE name = 'used_inodes'", -1));
            assertThrowsFs(() -> db.write(c -> {
                c.update("UPDATE counters SET value = value + 100 WHERE name = 'used_inodes'");
                c.update("INSERT INTO edges (parent, name, inode, type) VALUES (1, 'half', 99, 8)");
                throw new FsException(Errno.EIO, "failure half way");
            }));
            IllegalStateException bug = new IllegalStateException("a bug half way");
            try {
                db.write(c -> {
                    c.update("INSERT INTO edges (parent, name, inode, type) VALUES (1, 'half', 99, 8)");
                    throw bug;
                });
            } catch (IllegalStateException e) {
                assertEquals(bug, e);
            }
            long after = db.read(c -> c.longValue("SELECT value FROM counters WHERE name = 'used_inodes'", -1));
            boolean half = db.read(c -> c.exists("SELECT 1 FROM edges WHERE name = 'half'"));
            assertEquals(before, after);
            assertFalse(half);
        }
        meta = reopen();
        assertEquals(List.of(), meta.readdir(ROOT, null, 10, false));
    }

    @Test
    void aCloneOverTheInodeLimitLeavesNoHalfCopy() throws Exception {
        Path file = dir.resolve("limited.db");
        try (MetadataEngine m = SqliteMetadataEngine.open(file)) {
            m.format(limited(0, 8));
            long src = m.mknod(ROOT, "src", FileType.DIRECTORY, 0755, 0, 0, 0, null).inode();
            for (int i = 0; i < 4; i++) {
                long f = m.mknod(src, "f" + i, FileType.FILE, 0644, 0, 0, 0, null).inode();
                m.writeSlice(f, 0, new Slice(m.newSliceIds(1), 100, 0, 100, 0), 1L);
            }
            TreeSnapshot before = TreeSnapshot.of(m, ROOT, 1 << 20);
            var usage = m.statfs();
            // The copy would bring the volume to 11 inodes: the limit is only seen after copying most of it.
            assertEquals(Errno.ENOSPC, assertThrowsFs(() -> m.clone(src, ROOT, "copy", 0, 0)).errno());
            assertEquals(before, TreeSnapshot.of(m, ROOT, 1 << 20));
            assertEquals(usage, m.statfs());
            m.unlink(src, "f0");
            assertEquals(1, m.pendingSliceDeletes(10).size(), "no reference was left behind by the failed copy");
        }
    }

    @Test
    void limitsOfTheFormatAreEnforced() throws Exception {
        Path file = dir.resolve("limited.db");
        try (MetadataEngine m = SqliteMetadataEngine.open(file)) {
            m.format(limited(3 * 4096, 3));
            long f = m.mknod(ROOT, "f", FileType.FILE, 0644, 0, 0, 0, null).inode();
            m.mknod(ROOT, "g", FileType.FILE, 0644, 0, 0, 0, null);
            assertEquals(Errno.ENOSPC, assertThrowsFs(() -> m.mknod(ROOT, "h", FileType.FILE, 0644, 0, 0, 0, null))
                    .errno());
            m.writeSlice(f, 0, new Slice(m.newSliceIds(1), 8192, 0, 8192, 0), 1L);
            assertEquals(Errno.ENOSPC, assertThrowsFs(() -> m.writeSlice(f, 0,
                    new Slice(m.newSliceIds(1), 8192, 0, 8192, 8192), 1L)).errno());
            assertEquals(Errno.ENOSPC, assertThrowsFs(() -> m.truncate(f, 5 * 4096)).errno());
            assertEquals(8192, m.getattr(f).length());
            m.truncate(f, 3 * 4096);
            assertEquals(3 * 4096, m.statfs().usedBytes());
        }
    }

    @Test
    void aFileWithSeveralNamesReportsNoSingleParent() throws Exception {
        long a = meta.mknod(ROOT, "a", FileType.DIRECTORY, 0755, 0, 0, 0, null).inode();
        long f = meta.mknod(a, "f", FileType.FILE, 0644, 0, 0, 0, null).inode();
        assertEquals(a, meta.getattr(f).parent());
        assertEquals(0, meta.link(f, ROOT, "g").attr().parent());
        meta.rename(ROOT, "g", a, "h", 0);
        assertEquals(0, meta.getattr(f).parent());
        meta.unlink(a, "f");
        assertEquals(a, meta.getattr(f).parent());
    }

    // ---- several processes on one file ----

    @Test
    void aWriterWaitsForAnotherProcessesLock() throws Exception {
        CompletableFuture<Long> created;
        try (Connection lock = holdWriteLock()) {
            created = CompletableFuture.supplyAsync(() -> {
                try {
                    return meta.mknod(ROOT, "waited", FileType.FILE, 0644, 0, 0, 0, null).inode();
                } catch (FsException e) {
                    throw new IllegalStateException(e);
                }
            });
            // Readers are not blocked by a writer in WAL mode.
            assertEquals(List.of(), meta.readdir(ROOT, null, 10, false));
            assertFalse(created.isDone(), "the write must wait while another connection holds the lock");
            try (Statement s = lock.createStatement()) {
                s.execute("COMMIT");
            }
        }
        long inode = created.get(30, TimeUnit.SECONDS);
        assertEquals(inode, meta.lookup(ROOT, "waited").inode());
    }

    @Test
    void contentionBeyondTheRetriesIsEagain() throws Exception {
        try (MetadataEngine impatient = SqliteMetadataEngine.open(dir.resolve("meta.db"), 20);
                Connection lock = holdWriteLock()) {
            FsException e = assertThrowsFs(() -> impatient.mknod(ROOT, "x", FileType.FILE, 0644, 0, 0, 0, null));
            assertEquals(Errno.EAGAIN, e.errno());
            assertTrue(e.transientFailure());
            assertTrue(e.getMessage().contains("locked by another process"), e.getMessage());
            assertEquals(ROOT, impatient.getattr(ROOT).inode(), "reads go on while the lock is held");
        }
        assertEquals(List.of(), meta.readdir(ROOT, null, 10, false));
    }

    @Test
    void aKilledWriterLosesNothingItReportedCommitted() throws Exception {
        Path file = dir.resolve("meta.db");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                CrashWriter.class.getName(), file.toString()).redirectErrorStream(true).start();
        List<String> reported = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while (reported.size() < 300 && (line = out.readLine()) != null) {
                assertTrue(line.matches("f\\d+"), "unexpected output of the writer: " + line);
                reported.add(line);
            }
            // SIGKILL: no shutdown hook, no close, in the middle of whatever transaction is running.
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        }
        assertEquals(300, reported.size());
        MetadataEngine after = other();
        List<DirEntry> files = TreeSnapshot.list(after, ROOT);
        List<String> names = files.stream().map(DirEntry::name).toList();
        assertTrue(names.containsAll(reported), "every reported commit survives");
        // Whatever the last, unreported transaction did, it was all or nothing: the counters match the tree.
        assertEquals(1 + files.size(), after.statfs().usedInodes());
        long bytes = 0;
        for (DirEntry e : files) {
            long length = after.getattr(e.inode()).length();
            List<Slice> chunk = after.readChunk(e.inode(), 0);
            if (reported.contains(e.name())) {
                // Reported after its writeSlice returned: the slice and the length are there.
                assertEquals(4096, length, e.name());
                assertEquals(1, chunk.size(), e.name());
            } else {
                // The one unreported file: its mknod may have landed without its slice, never half a slice.
                assertTrue(length == 0 && chunk.isEmpty() || length == 4096 && chunk.size() == 1, e.name());
            }
            bytes += length;
        }
        assertEquals(bytes, after.statfs().usedBytes());
        after.mknod(ROOT, "after-crash", FileType.FILE, 0644, 0, 0, 0, null);
    }

    private static FsException assertThrowsFs(org.junit.jupiter.api.function.Executable op) {
        return org.junit.jupiter.api.Assertions.assertThrows(FsException.class, op);
    }
}
