package io.hangar.it.vfs;

import static io.hangar.it.vfs.VolumeFixture.readAll;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.core.vfs.VfsVolume;
import io.hangar.fs.Caller;
import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.fs.OpenFlags;
import io.hangar.fs.SetAttr;
import io.hangar.fsck.VolumeCheck;
import io.hangar.spi.repo.RepoRecord;
import io.hangar.spi.repo.RepoWrite;
import io.hangar.spi.repo.RepositoryStore;
import io.hangar.spi.repo.RepositoryStoreProvider;
import io.hangar.spi.sync.RepoChange;
import io.hangar.sync.SyncListener;
import io.hangar.sync.SyncReport;
import io.hangar.sync.SyncSpec;
import io.hangar.sync.SyncStatus;
import io.hangar.sync.VolumeSync;
import io.hangar.vfs.FileHandle;
import io.hangar.vfs.Volume;
import io.hangar.vfs.standalone.Volumes;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.ServiceLoader;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sync between two volumes on the embedded engines (SQLite metadata, file stores), every read-back through a
 * freshly opened volume: a full sync is byte-exact with attributes, xattrs and links; a second sync copies
 * nothing; a changed file moves only its blocks; a clone at the source moves no blocks; a conflict keeps the
 * destination; a sync that died part-way is finished without copying again what it had copied; deletions touch
 * only what sync put there; frozen trees stay frozen; repository records follow their version. (The suite in
 * integration-tests/sync does it with two Redis servers, two Ceph pools and killed processes.)
 */
class VolumeSyncTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path tmp;

    private VolumeFixture a;
    private VolumeFixture b;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private VolumeSync sync;
    private byte[] big;
    private byte[] small;

    @BeforeEach
    void setUp() throws Exception {
        a = new VolumeFixture(tmp.resolve("a")).format("site-a", Map.of());
        b = new VolumeFixture(tmp.resolve("b")).format("site-b", Map.of());
        sync = Volumes.sync(registry);
        big = random(70 * MIB + 123, 1); // two chunks, the second short
        small = random(3 * MIB, 2);
        try (VfsVolume v = a.open()) {
            long team = v.mkdir(Caller.ROOT, Volume.ROOT, "vision", 0755).attr().inode();
            long model = v.mkdir(Caller.ROOT, team, "llama", 0750).attr().inode();
            long ver = v.mkdir(Caller.ROOT, model, "v1", 0755).attr().inode();
            write(v, ver, "weights.bin", big);
            long cfg = write(v, ver, "config.json", small);
            v.setattr(Caller.ROOT, cfg, new SetAttr(0600, 1000, 1000, null, 1_000_000_000L, 2_000_000_000L, null));
            v.setxattr(Caller.ROOT, cfg, "user.origin", "run-7".getBytes(UTF_8), 0);
            v.symlink(Caller.ROOT, ver, "latest", "weights.bin");
            write(v, ver, "empty", new byte[0]);
        }
    }

    @Test
    void fullSyncIsByteExactWithAttributesAndCopiesEachBlockOnce() throws Exception {
        SyncReport r = run("/", false, false);
        assertTrue(r.clean(), r.problems().toString());
        assertEquals(4, r.copiedFiles());
        assertEquals(big.length + small.length, r.copiedBytes(), "each block copied once");
        assertEquals(a.blockObjects(), b.blockObjects());
        try (VfsVolume v = b.open()) {
            assertArrayEquals(big, readAll(v, v.resolve("/vision/llama/v1/weights.bin").attr().inode()));
            var cfg = v.resolve("/vision/llama/v1/config.json").attr();
            assertArrayEquals(small, readAll(v, cfg.inode()));
            assertEquals(0600, cfg.mode() & 07777);
            assertEquals(1000, cfg.uid());
            assertEquals(2_000_000_000L, cfg.mtimeNs());
            assertArrayEquals("run-7".getBytes(UTF_8), v.getxattr(cfg.inode(), "user.origin"));
            assertEquals("weights.bin", v.readlink(v.resolve("/vision/llama/v1/latest").attr().inode()));
            assertEquals(0, v.resolve("/vision/llama/v1/empty").attr().length());
            assertEquals(0750, v.resolve("/vision/llama").attr().mode() & 07777);
        }
        assertClean(b);
        assertEquals(big.length + small.length, registry.get("hangar_sync_copied").counter().count());
    }

    @Test
    void aSecondSyncCopiesNothingAndAChangedFileOnlyItsBlocks() throws Exception {
        run("/", false, false);
        SyncReport again = run("/", false, false);
        assertEquals(0, again.copiedBytes());
        assertEquals(0, again.copiedFiles());
        assertEquals(4, again.skipped());

        byte[] changed = random(2 * MIB, 3);
        try (VfsVolume v = a.open()) {
            long ver = v.resolve("/vision/llama/v1").attr().inode();
            write(v, ver, "config.json", changed);
        }
        SyncReport inc = run("/", false, false);
        assertTrue(inc.clean(), inc.problems().toString());
        assertEquals(1, inc.copiedFiles());
        assertEquals(changed.length, inc.copiedBytes(), "only the changed file's blocks");
        try (VfsVolume v = b.open()) {
            assertArrayEquals(changed, readAll(v, v.resolve("/vision/llama/v1/config.json").attr().inode()));
        }
    }

    @Test
    void aCloneAtTheSourceCopiesNoBlocks() throws Exception {
        run("/", false, false);
        try (VfsVolume v = a.open()) {
            long model = v.resolve("/vision/llama").attr().inode();
            v.clone(Caller.ROOT, v.resolve("/vision/llama/v1").attr().inode(), model, "v2");
        }
        long before = b.blockObjects();
        SyncReport r = run("/vision/llama/v2", false, false);
        assertTrue(r.clean(), r.problems().toString());
        assertEquals(4, r.copiedFiles());
        assertEquals(0, r.copiedBytes(), "a snapshot is metadata at the destination too");
        assertEquals(before, b.blockObjects());
        try (VfsVolume v = b.open()) {
            assertArrayEquals(big, readAll(v, v.resolve("/vision/llama/v2/weights.bin").attr().inode()));
        }
        assertClean(b);
    }

    @Test
    void aFileChangedAtBothEndsIsAConflictAndTheDestinationIsKept() throws Exception {
        run("/", false, false);
        byte[] theirs = "changed at b".getBytes(UTF_8);
        try (VfsVolume v = b.open()) {
            write(v, v.resolve("/vision/llama/v1").attr().inode(), "config.json", theirs);
        }
        try (VfsVolume v = a.open()) {
            write(v, v.resolve("/vision/llama/v1").attr().inode(), "config.json", "changed at a".getBytes(UTF_8));
        }
        SyncReport r = run("/", false, false);
        assertEquals(1, r.conflicts());
        assertTrue(r.problems().get(0).startsWith("/vision/llama/v1/config.json: conflict:"), r.problems().toString());
        try (VfsVolume v = b.open()) {
            assertArrayEquals(theirs, readAll(v, v.resolve("/vision/llama/v1/config.json").attr().inode()));
        }
        List<SyncStatus> st = sync.status(b.metaUrl);
        assertEquals(1, st.size());
        assertEquals("conflicts", st.get(0).state());
        assertEquals(1, st.get(0).conflicts());
    }

    @Test
    void aSyncThatFailedPartWayIsFinishedWithoutCopyingAgain() throws Exception {
        AtomicInteger copies = new AtomicInteger();
        SyncListener failsLate = new SyncListener() {
            @Override
            public void copied(long bytes) {
                if (copies.incrementAndGet() >= 5) {
                    throw new IllegalStateException("lost the connection");
                }
            }
        };
        SyncReport first = sync.sync(spec("/", false, false, 1), failsLate);
        assertEquals(1, first.failed(), first.problems().toString());
        assertTrue(first.problems().get(0).startsWith("/vision/llama/v1/weights.bin: "), first.problems().toString());
        assertEquals("failed", sync.status(b.metaUrl).get(0).state());
        // As if the process had died before three of the file's blocks were written.
        List<Path> stored;
        try (Stream<Path> s = Files.walk(tmp.resolve("b/chunks"))) {
            stored = s.filter(p -> p.toString().contains("/chunks/site-b/chunks/") && Files.isRegularFile(p))
                    .filter(p -> p.toFile().length() == 4 * MIB).sorted().toList();
        }
        assertTrue(stored.size() >= 17, "blocks at the destination: " + stored.size());
        for (Path p : stored.subList(stored.size() - 3, stored.size())) {
            Files.delete(p);
        }
        SyncReport second = run("/", false, false);
        assertTrue(second.clean(), second.problems().toString());
        assertEquals(1, second.copiedFiles());
        assertEquals(3 * 4 * MIB, second.copiedBytes(), "only the blocks that were missing");
        assertEquals(a.blockObjects(), b.blockObjects());
        try (VfsVolume v = b.open()) {
            assertArrayEquals(big, readAll(v, v.resolve("/vision/llama/v1/weights.bin").attr().inode()));
            assertEquals(List.of(), v.readdir(v.resolve("/.sync").attr().inode(), null, 10, false),
                    "nothing left in the staging directory");
        }
        assertClean(b);
    }

    @Test
    void deletionsRemoveOnlyWhatSyncPutThere() throws Exception {
        run("/", false, false);
        try (VfsVolume v = b.open()) {
            write(v, v.resolve("/vision/llama/v1").attr().inode(), "local-notes.txt", "mine".getBytes(UTF_8));
        }
        try (VfsVolume v = a.open()) {
            v.unlink(Caller.ROOT, v.resolve("/vision/llama/v1").attr().inode(), "config.json");
        }
        SyncReport keep = run("/", false, false);
        assertEquals(0, keep.deleted(), "without delete nothing goes");
        SyncReport r = run("/", true, false);
        assertTrue(r.clean(), r.problems().toString());
        assertEquals(1, r.deleted());
        try (VfsVolume v = b.open()) {
            long ver = v.resolve("/vision/llama/v1").attr().inode();
            assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> v.lookup(ver, "config.json")).errno());
            assertArrayEquals("mine".getBytes(UTF_8), readAll(v, v.lookup(ver, "local-notes.txt").attr().inode()));
        }
    }

    @Test
    void aFrozenTreeIsFrozenAtTheDestination() throws Exception {
        try (VfsVolume v = a.open()) {
            v.freeze(Caller.ROOT, v.resolve("/vision/llama/v1").attr().inode());
        }
        run("/", false, false);
        try (VfsVolume v = b.open()) {
            long ver = v.resolve("/vision/llama/v1").attr().inode();
            assertTrue(v.frozen(ver));
            long f = v.resolve("/vision/llama/v1/weights.bin").attr().inode();
            assertEquals(Errno.EPERM, assertThrows(FsException.class,
                    () -> v.open(Caller.ROOT, f, OpenFlags.RDWR)).errno());
            assertEquals(Errno.EPERM, assertThrows(FsException.class,
                    () -> v.mkdir(Caller.ROOT, ver, "x", 0755)).errno());
        }
    }

    @Test
    void theSourcesTrashIsNotSynced() throws Exception {
        try (VfsVolume v = a.open()) {
            long trash = v.mkdir(Caller.ROOT, Volume.ROOT, ".trash", 0700).attr().inode();
            write(v, trash, "deleted.bin", small);
        }
        SyncReport r = run("/", true, false);
        assertTrue(r.clean(), r.problems().toString());
        assertEquals(4, r.copiedFiles(), "the model's files alone");
        try (VfsVolume v = b.open()) {
            assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> v.resolve("/.trash")).errno());
        }
    }

    @Test
    void aDryRunChangesNothing() throws Exception {
        SyncReport r = run("/", false, true);
        assertEquals(4, r.copiedFiles());
        assertEquals(big.length + small.length, r.fileBytes());
        assertEquals(0, r.copiedBytes());
        assertEquals(0, b.blockObjects());
        try (VfsVolume v = b.open()) {
            assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> v.resolve("/vision")).errno());
        }
    }

    @Test
    void volumesOfDifferentBlockSizesAreRefused() throws Exception {
        VolumeFixture c = new VolumeFixture(tmp.resolve("c")).format("site-c", Map.of("block-size", "1048576"));
        FsException e = assertThrows(FsException.class,
                () -> sync.sync(new SyncSpec(a.metaUrl, c.metaUrl, "/", "test", false, false, 4, 0, ""), SyncListener.NONE));
        assertEquals(Errno.EINVAL, e.errno());
        assertThrows(IllegalArgumentException.class, () -> spec("vision/../x", false, false, 4));
        assertThrows(IllegalArgumentException.class, () -> spec("/", false, false, 0));
        assertEquals(Errno.ENOENT, assertThrows(FsException.class,
                () -> sync.sync(spec("/nothing/here", false, false, 4), SyncListener.NONE)).errno());
    }

    @Test
    void aVersionsRecordsFollowItWithTheDestinationsInodes() throws Exception {
        try (RepositoryStore r = repo(a.metaUrl)) {
            r.commit(List.of(), List.of(
                    put("team/vision", "{\"name\":\"vision\"}"),
                    put("model/vision/llama", "{\"team\":\"vision\",\"name\":\"llama\",\"versions\":1}"),
                    put("version/vision/llama/00000001", "{\"state\":\"released\"}"),
                    put("file/vision/llama/00000001/config.json", "{\"path\":\"config.json\",\"md5\":\"x\",\"inode\":1,\"ctime\":1}"),
                    put("tag/vision/llama/prod", "{\"version\":1}"),
                    put("tag/vision/llama/other", "{\"version\":9}")), List.of());
        }
        SyncReport rep = run("/vision/llama/v1", false, false);
        assertTrue(rep.records() >= 5, "records written: " + rep.records());
        long inode;
        try (VfsVolume v = b.open()) {
            inode = v.resolve("/vision/llama/v1/config.json").attr().inode();
        }
        try (RepositoryStore r = repo(b.metaUrl)) {
            assertTrue(r.get("team/vision").isPresent());
            assertTrue(r.get("model/vision/llama").isPresent());
            assertEquals("{\"state\":\"released\"}", str(r.get("version/vision/llama/00000001").get()));
            assertTrue(str(r.get("file/vision/llama/00000001/config.json").get()).contains("\"inode\":" + inode));
            assertTrue(r.get("tag/vision/llama/prod").isPresent());
            assertTrue(r.get("tag/vision/llama/other").isEmpty(), "a tag of a version not synced stays behind");
        }
        assertEquals(0, run("/vision/llama/v1", false, false).records(), "unchanged records are not written again");
    }

    @Test
    void filesAreWarmedIntoTheDestinationsCacheGroupAsTheyAreApplied() throws Exception {
        int port;
        try (java.net.ServerSocket sock = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = sock.getLocalPort();
        }
        try (VfsVolume owner = b.open(Map.of("cache-group", "g", "group-address", "127.0.0.1:" + port,
                "cache-dir", tmp.resolve("cache-b").toString(), "free-space-ratio", "0"))) {
            SyncReport r = sync.sync(new SyncSpec(a.metaUrl, b.metaUrl, "/", "test", false, false, 4, 0, "g"),
                    SyncListener.NONE);
            assertTrue(r.clean(), r.problems().toString());
            assertEquals(big.length + small.length, r.warmedBytes(), "every block fetched once, by its owner");
            long f = owner.resolve("/vision/llama/v1/weights.bin").attr().inode();
            assertEquals(big.length, owner.cacheState(f).groupBytes(), "the owner holds the file");
            SyncReport again = sync.sync(new SyncSpec(a.metaUrl, b.metaUrl, "/", "test", false, false, 4, 0, "g"),
                    SyncListener.NONE);
            assertEquals(0, again.warmedBytes(), "held already: nothing fetched");
        }
    }

    @Test
    void withNoGroupMemberToWarmThemFilesAreSyncedAndTheReportSaysTheyAreNotWarm() throws Exception {
        run("/", false, false);
        byte[] changed = random(2 * MIB, 4);
        try (VfsVolume v = a.open()) {
            write(v, v.resolve("/vision/llama/v1").attr().inode(), "config.json", changed);
        }
        List<String> told = new java.util.ArrayList<>();
        SyncReport r = sync.sync(new SyncSpec(a.metaUrl, b.metaUrl, "/", "test", false, false, 4, 0, "g"),
                new SyncListener() {
                    @Override
                    public void problem(String path, String why) {
                        told.add(path + ": " + why);
                    }
                });
        assertEquals(1, r.copiedFiles(), "the changed file is applied without a group to warm it into");
        assertEquals(changed.length, r.copiedBytes());
        assertEquals(0, r.warmedBytes());
        assertTrue(r.clean(), "nothing failed or conflicted: " + r.problems());
        assertEquals(1, r.problems().size(), r.problems().toString());
        assertTrue(r.problems().get(0).startsWith("/: not warmed: ")
                && r.problems().get(0).contains("cache group g of site-b has no member that owns blocks"),
                r.problems().get(0));
        assertEquals(r.problems(), told, "the listener is told as the report says");
        try (VfsVolume v = b.open()) {
            assertArrayEquals(changed, readAll(v, v.resolve("/vision/llama/v1/config.json").attr().inode()));
        }
        SyncStatus st = sync.status(b.metaUrl).stream().filter(x -> x.name().equals("test")).findFirst().orElseThrow();
        assertEquals("ok", st.state());
        assertTrue(st.error().contains("not warmed"), st.error());
    }

    @Test
    void aRunnersPositionIsKeptAtTheDestinationPerSourceAndName() throws Exception {
        assertTrue(sync.position(b.metaUrl, a.metaUrl, "tags x").isEmpty());
        RepoChange last = new RepoChange(42, 1_700_000_000_000L, "tag.set", "vision", "llama");
        sync.recordPosition(b.metaUrl, a.metaUrl, "tags x", last);
        assertEquals(last, sync.position(b.metaUrl, a.metaUrl, "tags x").orElseThrow(), "read back as written");
        assertTrue(sync.position(b.metaUrl, a.metaUrl, "tags y").isEmpty(), "another runner's is its own");
        assertTrue(sync.position(b.metaUrl, "redis://elsewhere/1", "tags x").isEmpty(), "per source");
        assertTrue(sync.status(b.metaUrl).isEmpty(), "a position is no sync status");
    }

    // ---- helpers ----

    private SyncReport run(String path, boolean delete, boolean dryRun) throws FsException {
        return sync.sync(new SyncSpec(a.metaUrl, b.metaUrl, path, "test", dryRun, delete, 4, 0, ""), SyncListener.NONE);
    }

    private SyncSpec spec(String path, boolean delete, boolean dryRun, int threads) {
        return new SyncSpec(a.metaUrl, b.metaUrl, path, "test", dryRun, delete, threads, 0, "");
    }

    private static long write(Volume v, long dir, String name, byte[] data) throws FsException {
        try (FileHandle h = v.create(Caller.ROOT, dir, name, 0644, OpenFlags.RDWR | OpenFlags.TRUNC)) {
            h.write(0, data, 0, data.length);
            return h.inode();
        }
    }

    private static byte[] random(int n, long seed) {
        byte[] d = new byte[n];
        new Random(seed).nextBytes(d);
        return d;
    }

    private static void assertClean(VolumeFixture f) throws Exception {
        try (VolumeCheck c = Volumes.check(f.metaUrl)) {
            var report = c.fsck(false, line -> { });
            assertTrue(report.clean(), "fsck: " + report);
        }
    }

    private static RepositoryStore repo(String metaUrl) throws FsException {
        URI u = URI.create(metaUrl);
        return ServiceLoader.load(RepositoryStoreProvider.class).stream().map(ServiceLoader.Provider::get)
                .filter(p -> p.schemes().contains(u.getScheme())).findFirst().orElseThrow().open(u);
    }

    private static RepoWrite put(String key, String json) {
        return RepoWrite.put(key, json.getBytes(UTF_8));
    }

    private static String str(RepoRecord r) {
        return new String(r.value(), UTF_8);
    }
}
