package io.hangar.it.vfs;

import static io.hangar.it.vfs.VolumeFixture.readAll;
import static io.hangar.it.vfs.VolumeFixture.writeFile;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.core.vfs.VfsVolume;
import io.hangar.fs.Caller;
import io.hangar.fs.Entry;
import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.fs.OpenFlags;
import io.hangar.fs.SetAttr;
import io.hangar.spi.store.ChunkStore;
import io.hangar.vfs.FileHandle;
import io.hangar.vfs.Volume;
import io.hangar.vfs.standalone.Volumes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The VFS on the embedded engines, end to end: what is written is what is read, whatever the pattern. */
class VfsEndToEndTest {
    @TempDir
    Path dir;

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 65535, 4 << 20, (4 << 20) - 1, (4 << 20) + 1, (64 << 20) + 3})
    void filesOfEverySizeAroundBlockAndChunkEdgesRoundTrip(int size) throws Exception {
        VolumeFixture fx = new VolumeFixture(dir).format("edges", Map.of());
        byte[] data = random(size, size);
        try (VfsVolume v = fx.open()) {
            long ino = writeFile(v, "f", data);
            assertEquals(size, v.getattr(ino).length());
            assertArrayEquals(data, readAll(v, ino));
        }
        try (VfsVolume v = fx.open()) {
            assertArrayEquals(data, readAll(v, v.resolve("/f").inode()), "after reopening the volume");
        }
    }

    /** Thousands of random writes, truncates and reads against an in-memory model of the file. */
    @Test
    void randomWritesTruncatesAndReadsMatchAModel() throws Exception {
        VolumeFixture fx = new VolumeFixture(dir).format("random", Map.of("block-size", "64K"));
        Random r = new Random(7);
        int max = 3 << 20;
        byte[] model = new byte[max];
        int length = 0;
        try (VfsVolume v = fx.open(Map.of("compact-threshold", "8"))) {
            FileHandle h = v.create(Caller.ROOT, Volume.ROOT, "f", 0644, OpenFlags.RDWR);
            long ino = h.inode();
            for (int op = 0; op < 3000; op++) {
                int kind = r.nextInt(20);
                if (kind < 12) {
                    int off = r.nextInt(max - 1);
                    int len = 1 + r.nextInt(Math.min(max - off, kind < 2 ? 400_000 : 5000));
                    byte[] d = random(len, op);
                    h.write(off, d, 0, len);
                    System.arraycopy(d, 0, model, off, len);
                    length = Math.max(length, off + len);
                } else if (kind < 13) {
                    int to = r.nextInt(max);
                    v.setattr(Caller.ROOT, ino, SetAttr.size(to));
                    if (to < length) {
                        Arrays.fill(model, to, length, (byte) 0);
                    }
                    length = to;
                } else if (kind < 14) {
                    h.close();
                    h = v.open(Caller.ROOT, ino, OpenFlags.RDWR);
                } else {
                    int off = r.nextInt(max);
                    int len = r.nextInt(100_000);
                    byte[] got = new byte[len];
                    int n = h.read(off, got, 0, len);
                    int want = Math.max(0, Math.min(len, length - off));
                    assertEquals(want, n, "read length at op " + op);
                    assertArrayEquals(Arrays.copyOfRange(model, off, off + want), Arrays.copyOf(got, n),
                            "read at op " + op + " off " + off);
                }
            }
            h.close();
            assertEquals(length, v.getattr(ino).length());
            assertArrayEquals(Arrays.copyOf(model, length), readAll(v, ino));
        }
        try (VfsVolume v = fx.open()) {
            assertArrayEquals(Arrays.copyOf(model, length), readAll(v, v.resolve("/f").inode()), "after reopen");
        }
    }

    @Test
    void compactionKeepsContentAndFreesReplacedBlocks() throws Exception {
        VolumeFixture fx = new VolumeFixture(dir).format("compact", Map.of("block-size", "64K"));
        byte[] model = new byte[1 << 20];
        try (VfsVolume v = fx.open(Map.of("compact-threshold", "1000"))) {
            long ino;
            try (FileHandle h = v.create(Caller.ROOT, Volume.ROOT, "f", 0644, OpenFlags.RDWR)) {
                ino = h.inode();
                Random r = new Random(3);
                for (int i = 0; i < 200; i++) {
                    int off = r.nextInt(model.length - 10_000);
                    byte[] d = random(1 + r.nextInt(10_000), i);
                    h.write(off, d, 0, d.length);
                    h.flush();
                    System.arraycopy(d, 0, model, off, d.length);
                }
            }
            long length = v.getattr(ino).length();
            long before = fx.blockObjects();
            assertTrue(v.compactNow(ino, 0));
            v.reapNow();
            long after = fx.blockObjects();
            assertTrue(after < before, "compaction should free the replaced blocks: " + before + " -> " + after);
            assertEquals((length + (64 << 10) - 1) / (64 << 10), after, "one block per 64K of the compacted slice");
            assertArrayEquals(Arrays.copyOf(model, (int) length), readAll(v, ino));
        }
    }

    @Test
    void unlinkedOpenFileStaysReadableAndItsBlocksGoAfterClose() throws Exception {
        VolumeFixture fx = new VolumeFixture(dir).format("unlink", Map.of());
        byte[] data = random(5 << 20, 11);
        try (VfsVolume v = fx.open()) {
            long ino = writeFile(v, "f", data);
            FileHandle h = v.open(Caller.ROOT, ino, OpenFlags.RDONLY);
            v.unlink(Caller.ROOT, Volume.ROOT, "f");
            assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> v.resolve("/f")).errno());
            v.reapNow();
            byte[] got = new byte[data.length];
            int off = 0;
            while (off < got.length) {
                off += h.read(off, got, off, got.length - off);
            }
            assertArrayEquals(data, got);
            assertTrue(fx.blockObjects() > 0);
            h.close();
            v.reapNow();
            assertEquals(0, fx.blockObjects(), "blocks of the deleted file are removed after the last close");
        }
    }

    @Test
    void twoClientsSeeEachOthersClosedFiles() throws Exception {
        VolumeFixture fx = new VolumeFixture(dir).format("c2o", Map.of());
        try (VfsVolume a = fx.open(); VfsVolume b = fx.open()) {
            byte[] first = random(100_000, 1);
            long ino = writeFile(a, "shared", first);
            assertArrayEquals(first, readAll(b, ino));
            byte[] second = random(300_000, 2);
            try (FileHandle h = a.open(Caller.ROOT, ino, OpenFlags.WRONLY | OpenFlags.TRUNC)) {
                h.write(0, second, 0, second.length);
            }
            assertArrayEquals(second, readAll(b, b.resolve("/shared").inode()), "B opens after A closed");
        }
    }

    @Test
    void appendsFromTwoHandlesNeverOverlap() throws Exception {
        VolumeFixture fx = new VolumeFixture(dir).format("append", Map.of());
        try (VfsVolume v = fx.open()) {
            long ino = writeFile(v, "log", new byte[0]);
            FileHandle a = v.open(Caller.ROOT, ino, OpenFlags.WRONLY | OpenFlags.APPEND);
            FileHandle b = v.open(Caller.ROOT, ino, OpenFlags.WRONLY | OpenFlags.APPEND);
            byte[] ra = new byte[100];
            byte[] rb = new byte[100];
            Arrays.fill(ra, (byte) 'a');
            Arrays.fill(rb, (byte) 'b');
            for (int i = 0; i < 500; i++) {
                a.write(0, ra, 0, 100);
                b.write(0, rb, 0, 100);
            }
            a.close();
            b.close();
            byte[] all = readAll(v, ino);
            assertEquals(100_000, all.length);
            for (int rec = 0; rec < 1000; rec++) {
                byte first = all[rec * 100];
                for (int i = 1; i < 100; i++) {
                    assertEquals(first, all[rec * 100 + i], "record " + rec + " is torn");
                }
            }
        }
    }

    /**
     * Threads that each open, rewrite their own region and close, again and again: the last version each
     * thread wrote must be what the file holds. Handles come and go while others write, which is what FUSE
     * does when it releases a handle after the next open; commits of one inode must stay in order.
     */
    @Test
    void handlesOpeningAndClosingConcurrentlyKeepTheLastWriteOfEachRegion() throws Exception {
        VolumeFixture fx = new VolumeFixture(dir).format("handles", Map.of("block-size", "64K"));
        int threads = 4;
        int region = 96 << 10;
        int rounds = 150;
        try (VfsVolume v = fx.open()) {
            long ino = writeFile(v, "shared", new byte[threads * region]);
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
            try {
                List<java.util.concurrent.Future<?>> fs = new java.util.ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int me = t;
                    fs.add(pool.submit(() -> {
                        byte[] data = new byte[region];
                        for (int round = 1; round <= rounds; round++) {
                            Arrays.fill(data, (byte) round);
                            try (FileHandle h = v.open(Caller.ROOT, ino, OpenFlags.WRONLY)) {
                                // Two writes per round: a torn or reordered commit shows as mixed versions.
                                h.write((long) me * region, data, 0, region / 2);
                                h.write((long) me * region + region / 2, data, region / 2, region / 2);
                            }
                        }
                        return null;
                    }));
                }
                for (var f : fs) {
                    f.get();
                }
            } finally {
                pool.shutdown();
            }
            byte[] all = readAll(v, ino);
            for (int t = 0; t < threads; t++) {
                for (int i = 0; i < region; i++) {
                    assertEquals((byte) rounds, all[t * region + i], "thread " + t + " byte " + i);
                }
            }
        }
    }

    @Test
    void cloneSharesBlocksAndIsIndependentOfLaterWrites() throws Exception {
        VolumeFixture fx = new VolumeFixture(dir).format("clone", Map.of());
        byte[] data = random(9 << 20, 5);
        try (VfsVolume v = fx.open()) {
            long ino = writeFile(v, "model.bin", data);
            long blocks = fx.blockObjects();
            Entry copy = v.clone(Caller.ROOT, ino, Volume.ROOT, "model-v1.bin");
            assertEquals(blocks, fx.blockObjects(), "a clone copies no data");
            try (FileHandle h = v.open(Caller.ROOT, ino, OpenFlags.WRONLY)) {
                h.write(0, new byte[1000], 0, 1000);
            }
            assertArrayEquals(data, readAll(v, copy.inode()));
            v.unlink(Caller.ROOT, Volume.ROOT, "model.bin");
            v.reapNow();
            assertArrayEquals(data, readAll(v, copy.inode()), "the clone keeps shared blocks alive");
        }
    }

    @Test
    void capacityIsEnforcedWithEnospc() throws Exception {
        VolumeFixture fx = new VolumeFixture(dir).format("small", Map.of("capacity", "1M"));
        try (VfsVolume v = fx.open()) {
            writeFile(v, "a", new byte[900 << 10]);
            FsException e = assertThrows(FsException.class, () -> writeFile(v, "b", new byte[400 << 10]));
            assertEquals(Errno.ENOSPC, e.errno());
        }
    }

    @Test
    void aVolumeRefusesAStoreThatIsNotItsOwn() throws Exception {
        VolumeFixture fx = new VolumeFixture(dir).format("mine", Map.of());
        Files.delete(dir.resolve("chunks/mine/volume.id"));
        FsException e = assertThrows(FsException.class, fx::open);
        assertTrue(e.getMessage().contains("wrong store for this volume"), e.getMessage());
        String otherMeta = "sqlite://" + dir.resolve("other.db");
        Volumes.format(otherMeta, "mine", fx.storeUrl, Map.of());
        e = assertThrows(FsException.class, fx::open);
        assertTrue(e.getMessage().contains("another volume"), e.getMessage());
        e = assertThrows(FsException.class, () -> Volumes.format("sqlite://" + dir.resolve("third.db"), "mine",
                fx.storeUrl, Map.of()));
        assertEquals(Errno.EEXIST, e.errno());
    }

    @Test
    void unformattedVolumeIsReportedClearly() {
        FsException e = assertThrows(FsException.class,
                () -> Volumes.open("sqlite://" + dir.resolve("none.db"), Map.of()));
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().contains("not formatted"), e.getMessage());
        e = assertThrows(FsException.class, () -> Volumes.open("nosuch://x", Map.of()));
        assertTrue(e.getMessage().contains("no metadata engine for scheme 'nosuch'"), e.getMessage());
    }

    /** While the store is away, writers wait with their data buffered; when it returns, nothing is lost. */
    @Test
    void ioWaitsForAnAbsentStoreAndResumes() throws Exception {
        VolumeFixture fx = new VolumeFixture(dir).format("gate", Map.of());
        byte[] data = random(10 << 20, 9);
        try (VfsVolume v = fx.open()) {
            ChunkStore store = v.gate().detach("test took it away");
            assertFalse(v.available());
            assertTrue(v.state().contains("unavailable"), v.state());
            CompletableFuture<Long> writer = CompletableFuture.supplyAsync(() -> {
                try {
                    return writeFile(v, "f", data);
                } catch (FsException e) {
                    throw new RuntimeException(e);
                }
            });
            assertThrows(java.util.concurrent.TimeoutException.class, () -> writer.get(1, TimeUnit.SECONDS),
                    "the close must wait for the store, not fail or pretend");
            v.gate().attach(store);
            long ino = writer.get(60, TimeUnit.SECONDS);
            assertTrue(v.available());
            assertArrayEquals(data, readAll(v, ino));
        }
    }

    /** The commits SQLite's engine made only to sync (its {@code syncs} counter), read on a connection of its own. */
    private static long syncCommits(VolumeFixture fx) throws Exception {
        try (java.sql.Connection c = new org.sqlite.SQLiteConfig().createConnection("jdbc:sqlite:"
                + fx.dir.resolve("meta.db"));
                java.sql.ResultSet rs = c.createStatement().executeQuery(
                        "SELECT value FROM counters WHERE name = 'syncs'")) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    /**
     * A create is not synced on its own: the file's first commit of data makes it durable, and only a file
     * closed without data, or an fsync of its directory, costs a sync commit.
     */
    @Test
    void aCreatedFileIsSyncedByItsDataOrAtItsCloseOrByItsDirectorysFsync() throws Exception {
        VolumeFixture fx = new VolumeFixture(dir).format("creates", Map.of());
        try (VfsVolume v = fx.open()) {
            long s0 = syncCommits(fx);
            v.create(Caller.ROOT, Volume.ROOT, "empty", 0644, OpenFlags.WRONLY).close();
            assertEquals(s0 + 1, syncCommits(fx), "closed without data: one sync commit");
            try (FileHandle h = v.create(Caller.ROOT, Volume.ROOT, "data", 0644, OpenFlags.WRONLY)) {
                h.write(0, new byte[] {1, 2, 3}, 0, 3);
            }
            assertEquals(s0 + 1, syncCommits(fx), "the data's commit made the creation durable: no sync commit");
            FileHandle open = v.create(Caller.ROOT, Volume.ROOT, "open", 0644, OpenFlags.WRONLY);
            v.syncDirectory(Volume.ROOT);
            assertEquals(s0 + 2, syncCommits(fx), "fsync of the directory syncs the open file's creation");
            open.close();
            assertEquals(s0 + 2, syncCommits(fx), "and its close has nothing left to sync");
            long f = v.resolve("/data").inode();
            assertEquals(Errno.ENOTDIR, assertThrows(FsException.class, () -> v.syncDirectory(f)).errno());
        }
        try (VfsVolume v = fx.open()) {
            assertEquals(0, v.getattr(v.resolve("/empty").inode()).length());
            assertArrayEquals(new byte[] {1, 2, 3}, readAll(v, v.resolve("/data").inode()));
            assertEquals(0, v.getattr(v.resolve("/open").inode()).length());
        }
    }
}
