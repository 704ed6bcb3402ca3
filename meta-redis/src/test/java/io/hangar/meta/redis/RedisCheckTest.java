package io.hangar.meta.redis;

import static io.hangar.spi.meta.MetadataEngine.ROOT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/**
 * The engine's check against corruption injected with raw commands on the test server (as a buggy client, a
 * half-restored backup or a hand edit would leave the keys): each test breaks one thing, and the check must
 * name exactly that problem, repair it if it can be repaired without guessing, and leave a volume a fresh
 * engine finds clean. Orphans and impossible records are only named, so they are still there afterwards.
 */
class RedisCheckTest extends RedisTestSupport {
    private String p;
    private MetadataEngine meta;
    private RedisClient raw;
    private final List<MetadataEngine> opened = new ArrayList<>();
    private int chunkSize;
    /** /d (directory), /d/f (two chunks), /g (one slice), /h and /d/h2 (one file), /e (empty directory). */
    private long d;
    private long f;
    private long g;
    private long h;
    private long e;
    private Slice sg;

    private MetadataEngine engine() throws Exception {
        MetadataEngine m = open(p);
        opened.add(m);
        return m;
    }

    @BeforeEach
    void volume() throws Exception {
        p = newPrefix();
        raw = RedisClient.create("127.0.0.1", server.port());
        meta = engine();
        meta.format(format("check"));
        chunkSize = meta.load().orElseThrow().chunkSize();
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
        raw.close();
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

    private String k(String key) {
        return p + key;
    }

    private static String member(String name, char type, long ino) {
        return name + "\0" + type + ino;
    }

    private static String ref(Slice s) {
        return s.id() + "_" + s.size();
    }

    private static byte[] record(Slice s) {
        return Codec.slice(s);
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
    private void assertRepaired(Kind kind, Object subject) throws Exception {
        List<MetaProblem> found = check(meta, false);
        assertEquals(1, found.size(), found.toString());
        MetaProblem pr = found.get(0);
        assertEquals(kind, pr.kind(), pr.toString());
        assertTrue(pr.what().contains(String.valueOf(subject)), pr.what() + " names " + subject);
        assertFalse(pr.repaired());
        assertEquals(found, check(meta, false), "checking alone changes nothing");
        assertEquals(List.of(new MetaProblem(kind, pr.what(), true)), check(meta, true));
        assertEquals(List.of(), check(engine(), false), "a fresh engine finds the volume repaired");
    }

    /** As {@link #assertRepaired}, for what the check only names: the repair leaves it, and says so. */
    private void assertNamedOnly(Kind kind, Object subject) throws Exception {
        List<MetaProblem> found = check(meta, false);
        assertEquals(1, found.size(), found.toString());
        MetaProblem pr = found.get(0);
        assertEquals(kind, pr.kind(), pr.toString());
        assertTrue(pr.what().contains(String.valueOf(subject)), pr.what() + " names " + subject);
        assertFalse(pr.repaired());
        assertEquals(found, check(meta, true), "not repaired");
        assertEquals(found, check(engine(), false), "still there for a fresh engine");
    }

    // ---- entries ----

    @Test
    void anEntryNamingAMissingInodeIsDanglingAndRemoved() throws Exception {
        raw.zadd(k("d" + ROOT), 0, member("ghost", 'f', 999));
        assertRepaired(Kind.DANGLING_ENTRY, 999);
        assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> meta.lookup(ROOT, "ghost")).errno());
    }

    @Test
    void anEntryOfTheWrongTypeIsRewrittenToItsInodesType() throws Exception {
        // A file's entry says directory: the root's link count follows the inodes, so it is not a second problem.
        raw.zrem(k("d" + ROOT), member("g", 'f', g));
        raw.zadd(k("d" + ROOT), 0, member("g", 'd', g));
        assertRepaired(Kind.ENTRY_TYPE, g);
        assertEquals(FileType.FILE, meta.readdir(ROOT, "f", 1, false).get(0).type());
    }

    // ---- link counts and parents ----

    @Test
    void aFilesLinkCountIsSetToItsNames() throws Exception {
        raw.hset(k("i" + g), "n", "5");
        assertRepaired(Kind.LINK_COUNT, g);
        assertEquals(1, meta.getattr(g).nlink());
    }

    @Test
    void aDirectorysLinkCountIsSetToTwoPlusItsSubdirectories() throws Exception {
        raw.hset(k("i" + ROOT), "n", "7");
        assertRepaired(Kind.LINK_COUNT, "inode " + ROOT);
        assertEquals(4, meta.getattr(ROOT).nlink());
    }

    @Test
    void aParentThatIsNotTheEntrysDirectoryIsCorrected() throws Exception {
        raw.hset(k("i" + g), "p", Long.toString(d));
        assertRepaired(Kind.PARENT, g);
        assertEquals(ROOT, meta.getattr(g).parent());
    }

    @Test
    void aFileWithSeveralNamesHasNoSingleParent() throws Exception {
        raw.hset(k("i" + h), "p", Long.toString(ROOT));
        assertRepaired(Kind.PARENT, h);
        assertEquals(0, meta.getattr(h).parent());
    }

    @Test
    void theNamesPerDirectoryOfALinkedFileAreRebuilt() throws Exception {
        // Without them, the last name's directory cannot be restored as the parent.
        raw.del(k("p" + h));
        assertRepaired(Kind.PARENT, h);
        meta.unlink(ROOT, "h");
        assertEquals(d, meta.getattr(h).parent());
    }

    // ---- orphans: named, never reclaimed by the check ----

    @Test
    void aFileNoEntryNamesIsAnOrphan() throws Exception {
        raw.zrem(k("d" + ROOT), member("g", 'f', g));
        assertNamedOnly(Kind.ORPHAN_INODE, g);
    }

    @Test
    void aDirectoryNoEntryNamesIsAnOrphan() throws Exception {
        raw.zrem(k("d" + ROOT), member("e", 'd', e));
        raw.hincrBy(k("i" + ROOT), "n", -1);
        assertNamedOnly(Kind.ORPHAN_INODE, e);
    }

    @Test
    void aFileUnlinkedWhileOpenThatNoSessionHoldsIsAnOrphan() throws Exception {
        long s = meta.openSession("holder");
        meta.open(s, g);
        meta.unlink(ROOT, "g");
        assertEquals(List.of(), check(meta, false), "open after its last unlink: no orphan");
        raw.hdel(k("so" + s), Long.toString(g));
        raw.hdel(k("opens"), Long.toString(g));
        assertNamedOnly(Kind.ORPHAN_INODE, g);
    }

    // ---- slice references and the slice index ----

    @Test
    void aWrongReferenceCountIsSetToTheRecordsNamingTheSlice() throws Exception {
        raw.hset(k("sliceRef"), ref(sg), "7");
        assertRepaired(Kind.REFERENCE_COUNT, ref(sg));
        assertEquals(new StoredSlice(sg.id(), sg.size(), 1), meta.scanSlices(sg.id() - 1, 1).get(0));
    }

    @Test
    void aSliceQueuedForDeletionWhileRecordsNameItIsTakenBack() throws Exception {
        raw.zadd(k("delSlices"), 0, ref(sg));
        assertRepaired(Kind.REFERENCE_COUNT, ref(sg));
        assertEquals(List.of(), meta.pendingSliceDeletes(10), "gc must not delete the blocks of a named slice");
        assertEquals(new StoredSlice(sg.id(), sg.size(), 1), meta.scanSlices(sg.id() - 1, 1).get(0));
    }

    @Test
    void aCountedSliceNoRecordNamesIsQueuedForDeletion() throws Exception {
        raw.hset(k("sliceRef"), "4242_10", "1");
        raw.zadd(k("slices"), 4242, "4242_10");
        assertRepaired(Kind.REFERENCE_COUNT, "4242_10");
        assertEquals(List.of(new SliceRef(4242, 10)), meta.pendingSliceDeletes(10));
    }

    @Test
    void aNamedSliceThatIsNotCountedIsCountedAgain() throws Exception {
        raw.hdel(k("sliceRef"), ref(sg));
        assertRepaired(Kind.SLICE_INDEX, ref(sg));
        assertEquals(new StoredSlice(sg.id(), sg.size(), 1), meta.scanSlices(sg.id() - 1, 1).get(0));
    }

    @Test
    void aSliceMissingFromTheSliceIndexIsAddedBack() throws Exception {
        raw.zrem(k("slices"), ref(sg));
        assertRepaired(Kind.SLICE_INDEX, ref(sg));
        assertEquals(new StoredSlice(sg.id(), sg.size(), 1), meta.scanSlices(sg.id() - 1, 1).get(0));
    }

    @Test
    void aStrayInTheSliceIndexIsRemoved() throws Exception {
        raw.zadd(k("slices"), 4242, "4242_10");
        assertRepaired(Kind.SLICE_INDEX, "4242_10");
        assertTrue(meta.scanSlices(4241, 1).isEmpty());
    }

    @Test
    void aChunkMissingFromItsFilesChunkIndexIsAddedBack() throws Exception {
        // Unlink walks the chunk index: without the repair the chunk's slices would never be freed.
        raw.zrem(k("C" + f), "1");
        assertRepaired(Kind.SLICE_INDEX, "inode " + f);
        Slice s = meta.readChunk(f, 1).get(0);
        meta.unlink(d, "f");
        assertTrue(meta.pendingSliceDeletes(10).contains(new SliceRef(s.id(), s.size())));
    }

    // ---- usage ----

    @Test
    void usedSpaceIsSetToWhatTheFilesAddUpTo() throws Exception {
        long used = meta.statfs().usedBytes();
        raw.set(k("usedSpace"), "12345");
        assertRepaired(Kind.USAGE, 12345);
        assertEquals(used, meta.statfs().usedBytes());
    }

    @Test
    void usedInodesIsSetToTheInodesThereAre() throws Exception {
        raw.set(k("usedInodes"), "99");
        assertRepaired(Kind.USAGE, 99);
        assertEquals(6, meta.statfs().usedInodes(), "the root, d, d/f, g, h and e");
    }

    // ---- impossible records: named, never guessed at ----

    @Test
    void aRecordOfNoLengthIsBad() throws Exception {
        raw.rpush(bytes(k("c" + g + "_0")), record(new Slice(0, 10, 0, 0, 5)));
        assertNamedOnly(Kind.BAD_RECORD, "inode " + g);
    }

    @Test
    void aRecordPastTheEndOfItsChunkIsBad() throws Exception {
        raw.rpush(bytes(k("c" + g + "_0")), record(Slice.hole(chunkSize - 10, 20)));
        assertNamedOnly(Kind.BAD_RECORD, "inode " + g);
    }

    @Test
    void aRecordOfTheWrongSizeIsBadAndTheCheckGoesOn() throws Exception {
        raw.rpush(bytes(k("c" + g + "_0")), Arrays.copyOf(record(Slice.hole(0, 10)), 23));
        assertNamedOnly(Kind.BAD_RECORD, "inode " + g);
    }

    @Test
    void aChunkOfNoFileIsBad() throws Exception {
        raw.rpush(bytes(k("c999_0")), record(Slice.hole(0, 10)));
        assertNamedOnly(Kind.BAD_RECORD, 999);
    }

    @Test
    void aChunkPastTheEndOfItsFileIsBad() throws Exception {
        raw.rpush(bytes(k("c" + g + "_3")), record(Slice.hole(0, 10)));
        raw.zadd(k("C" + g), 3, "3");
        assertNamedOnly(Kind.BAD_RECORD, "chunk 3 of inode " + g);
    }

    // ---- many at once ----

    @Test
    void oneRepairFixesThousandsOfProblemsInOneDirectory() throws Exception {
        // More than a page of members: the repair removes entries while the check walks the directory.
        Map<String, Double> ghosts = new HashMap<>();
        for (int i = 0; i < 2500; i++) {
            ghosts.put(member("ghost" + i, 'f', 100_000 + i), 0.0);
        }
        raw.zadd(k("d" + e), ghosts);
        List<MetaProblem> found = check(meta, false);
        assertEquals(2500, found.size());
        assertTrue(found.stream().allMatch(pr -> pr.kind() == Kind.DANGLING_ENTRY));
        List<MetaProblem> repaired = check(meta, true);
        assertEquals(2500, repaired.size());
        assertTrue(repaired.stream().allMatch(MetaProblem::repaired));
        assertEquals(List.of(), check(engine(), false));
        assertEquals(List.of(), meta.readdir(e, null, 10, false));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
