package io.hangar.it.vfs;

import static io.hangar.it.vfs.VolumeFixture.readAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.core.vfs.VfsVolume;
import io.hangar.fs.Caller;
import io.hangar.fs.OpenFlags;
import io.hangar.fs.SetAttr;
import io.hangar.fsck.FsckReport;
import io.hangar.fsck.GcReport;
import io.hangar.fsck.VolumeCheck;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.testing.RedisServer;
import io.hangar.vfs.FileHandle;
import io.hangar.vfs.Volume;
import io.hangar.vfs.standalone.Volumes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * fsck and gc on both engines and the file store: a volume that went through writes, overwrites,
 * truncates, compaction, clones and unlinks is clean; a leaked, a missing and a wrong-length block are each
 * found; gc takes only leaked blocks past the grace period and the pending deletions, never a block a
 * file still reads. Every check runs on a fresh, separately opened check (not the volume that wrote).
 */
class FsckGcTest {
    @TempDir
    Path dir;
    private RedisServer redis;

    @AfterEach
    void stopRedis() throws Exception {
        if (redis != null) {
            redis.close();
        }
    }

    private String meta(String engine) throws IOException {
        if (engine.equals("redis")) {
            redis = RedisServer.start(dir.resolve("redis"));
            return redis.url(0);
        }
        return "sqlite://" + dir.resolve("meta.db");
    }

    private Path blocks() {
        return dir.resolve("chunks").resolve("fk").resolve("chunks");
    }

    private List<Path> blockFiles() throws IOException {
        try (Stream<Path> s = Files.walk(blocks())) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    private static FsckReport fsck(String meta, List<String> lines) throws Exception {
        try (VolumeCheck c = Volumes.check(meta)) {
            return c.fsck(false, lines::add);
        }
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** A busy history: returns the expected content of each file left. */
    private static Map<String, byte[]> history(VfsVolume v) throws Exception {
        Map<String, byte[]> expected = new HashMap<>();
        byte[] a = random(9 << 20, 1);
        try (FileHandle h = v.create(Caller.ROOT, Volume.ROOT, "a", 0644, OpenFlags.RDWR)) {
            h.write(0, a, 0, a.length);
            byte[] patch = random(300_000, 2);
            for (int i = 0; i < 12; i++) { // many small overwrites: compaction rewrites the chunk
                int off = i * 500_000;
                h.write(off, patch, 0, patch.length);
                System.arraycopy(patch, 0, a, off, patch.length);
                h.flush();
            }
        }
        expected.put("a", a);
        long ai = v.resolve("/a").inode();
        v.clone(Caller.ROOT, ai, Volume.ROOT, "a-clone");
        expected.put("a-clone", a.clone());
        byte[] b = random(5 << 20, 3);
        try (FileHandle h = v.create(Caller.ROOT, Volume.ROOT, "b", 0644, OpenFlags.RDWR)) {
            h.write(0, b, 0, b.length);
        }
        v.setattr(Caller.ROOT, v.resolve("/b").inode(), SetAttr.size(1_000_000));
        byte[] bt = new byte[1_000_000];
        System.arraycopy(b, 0, bt, 0, bt.length);
        expected.put("b", bt);
        try (FileHandle h = v.create(Caller.ROOT, Volume.ROOT, "gone", 0644, OpenFlags.RDWR)) {
            h.write(0, b, 0, b.length);
        }
        v.unlink(Caller.ROOT, Volume.ROOT, "gone");
        return expected;
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "redis"})
    void aBusyVolumeIsCleanAndGcKeepsEveryByteFilesRead(String engine) throws Exception {
        String meta = meta(engine);
        Volumes.format(meta, "fk", "file://" + dir.resolve("chunks"), Map.of("block-size", "1M"));
        Map<String, byte[]> expected;
        try (VfsVolume v = (VfsVolume) Volumes.open(meta, Map.of("compact-threshold", "4"))) {
            expected = history(v);
        }
        List<String> lines = new ArrayList<>();
        FsckReport r = fsck(meta, lines);
        assertTrue(r.consistent(), () -> "fsck: " + r + " " + lines);
        assertTrue(r.blocks() > 0 && r.slices() > 0, r::toString);

        // gc with no grace: pending deletions finish, leaked blocks (none here) go; nothing a file reads goes.
        try (VolumeCheck c = Volumes.check(meta)) {
            c.gc(false, Duration.ZERO, l -> { });
        }
        List<String> after = new ArrayList<>();
        FsckReport clean = fsck(meta, after);
        assertTrue(clean.clean(), () -> "fsck after gc: " + clean + " " + after);
        assertEquals(0, clean.pendingSlices());
        try (VfsVolume v = (VfsVolume) Volumes.open(meta, Map.of())) {
            for (Map.Entry<String, byte[]> e : expected.entrySet()) {
                assertArrayEquals(e.getValue(), readAll(v, v.resolve("/" + e.getKey()).inode()), e.getKey());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "redis"})
    void leakedMissingAndWrongLengthBlocksAreEachFound(String engine) throws Exception {
        String meta = meta(engine);
        Volumes.format(meta, "fk", "file://" + dir.resolve("chunks"), Map.of("block-size", "1M"));
        try (VfsVolume v = (VfsVolume) Volumes.open(meta, Map.of())) {
            VolumeFixture.writeFile(v, "f", random(3 << 20, 5));
            VolumeFixture.writeFile(v, "g", random(2 << 20, 6));
        }
        List<Path> files = blockFiles();
        assertEquals(5, files.size(), files::toString);
        long sliceF = Long.parseLong(files.get(0).getFileName().toString().split("_")[0]);
        // A leaked block in the same directory as live ones, and one in a directory no slice id falls in.
        Path leak1 = files.get(0).resolveSibling((sliceF + 500) + "_0_1048576");
        Files.copy(files.get(0), leak1);
        Path leak2 = blocks().resolve("7").resolve("7001").resolve("7001002_3_100");
        Files.createDirectories(leak2.getParent());
        Files.write(leak2, new byte[100]);
        Files.setLastModifiedTime(leak2, FileTime.from(Instant.now().minus(Duration.ofHours(2))));

        List<String> lines = new ArrayList<>();
        FsckReport r = fsck(meta, lines);
        assertEquals(2, r.leakedBlocks(), () -> lines.toString());
        assertEquals(1_048_576 + 100, r.leakedBytes());
        assertEquals(1, r.youngLeakedBlocks(), "the copy made just now is younger than the grace");
        assertTrue(r.consistent() && !r.clean(), r::toString);

        // A dry run names both but deletes nothing; gc with the default grace takes only the old one.
        try (VolumeCheck c = Volumes.check(meta)) {
            GcReport dry = c.gc(true, Duration.ZERO, l -> { });
            assertEquals(2, dry.leakedBlocks());
            assertTrue(Files.exists(leak1) && Files.exists(leak2));
            GcReport gc = c.gc(false, VolumeCheck.DEFAULT_GRACE, l -> { });
            assertEquals(1, gc.leakedBlocks());
            assertEquals(1, gc.keptYoung());
        }
        assertTrue(Files.exists(leak1));
        assertFalse(Files.exists(leak2));

        // A missing block and a block of the wrong length make the volume inconsistent.
        Files.delete(leak1);
        Files.delete(files.get(1));
        Files.write(files.get(2), new byte[10]);
        List<String> bad = new ArrayList<>();
        FsckReport broken = fsck(meta, bad);
        assertEquals(1, broken.missingBlocks(), bad::toString);
        assertEquals(1, broken.badBlocks(), bad::toString);
        assertFalse(broken.consistent());
        assertTrue(bad.stream().anyMatch(l -> l.startsWith("missing block: ") && l.contains(
                files.get(1).getFileName().toString())), bad::toString);
        // gc never "repairs" by deleting what files reference.
        try (VolumeCheck c = Volumes.check(meta)) {
            c.gc(false, Duration.ZERO, l -> { });
        }
        assertTrue(Files.exists(files.get(2)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "redis"})
    void gcFinishesPendingDeletionsAndTheEngineCheckIsPartOfFsck(String engine) throws Exception {
        String meta = meta(engine);
        Volumes.format(meta, "fk", "file://" + dir.resolve("chunks"), Map.of("block-size", "1M"));
        try (VfsVolume v = (VfsVolume) Volumes.open(meta, Map.of())) {
            VolumeFixture.writeFile(v, "f", random(3 << 20, 5));
        }
        // The slice's last reference goes through the engine alone: no VFS reaper runs afterwards.
        try (MetadataEngine m = io.hangar.core.volume.VolumeOpener.standalone().engine(meta)) {
            m.unlink(MetadataEngine.ROOT, "f");
        }
        FsckReport r = fsck(meta, new ArrayList<>());
        assertEquals(1, r.pendingSlices());
        assertTrue(r.clean(), r::toString);
        assertEquals(3, blockFiles().size());
        try (VolumeCheck c = Volumes.check(meta)) {
            GcReport gc = c.gc(false, VolumeCheck.DEFAULT_GRACE, l -> { });
            assertEquals(1, gc.pendingSlices());
            assertEquals(3, gc.pendingBlocks());
        }
        assertEquals(0, blockFiles().size());
        FsckReport after = fsck(meta, new ArrayList<>());
        assertEquals(0, after.pendingSlices());
        assertEquals(0, after.slices());
        assertTrue(after.clean(), after::toString);
    }

    /** Closing a volume stops a compaction midway; the blocks it had written go with it, not to gc. */
    @ParameterizedTest
    @ValueSource(strings = {"sqlite"})
    void aVolumeClosedDuringCompactionLeaksNoBlocks(String engine) throws Exception {
        String meta = meta(engine);
        Volumes.format(meta, "fk", "file://" + dir.resolve("chunks"), Map.of("block-size", "64K"));
        byte[] patch = random(200_000, 9);
        for (int round = 0; round < 6; round++) {
            try (VfsVolume v = (VfsVolume) Volumes.open(meta, Map.of("compact-threshold", "3"))) {
                try (FileHandle h = v.create(Caller.ROOT, Volume.ROOT, "f" + round, 0644, OpenFlags.RDWR)) {
                    h.write(0, new byte[16 << 20], 0, 16 << 20);
                    for (int i = 0; i < 12; i++) {
                        h.write(i * 1_000_000L, patch, 0, patch.length);
                        h.flush(); // each commit may start a compaction of the 16 MiB chunk
                    }
                }
            } // closes while the last compaction is likely still copying blocks
            FsckReport r = fsck(meta, new ArrayList<>());
            assertEquals(0, r.leakedBlocks(), "round " + round + ": " + r);
            assertTrue(r.consistent(), r::toString);
        }
    }
}
