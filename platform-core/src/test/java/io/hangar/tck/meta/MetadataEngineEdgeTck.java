package io.hangar.tck.meta;

import static io.hangar.spi.meta.MetadataEngine.MAX_LINKS;
import static io.hangar.spi.meta.MetadataEngine.MAX_XATTR_NAME;
import static io.hangar.spi.meta.MetadataEngine.MAX_XATTR_VALUE;
import static io.hangar.spi.meta.MetadataEngine.ROOT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.fs.Attr;
import io.hangar.fs.Errno;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.fs.RenameFlags;
import io.hangar.fs.StatFs;
import io.hangar.fs.XattrFlags;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.Slice;
import io.hangar.spi.meta.SliceRef;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The second part of the conformance kit (issue 7), beside {@link MetadataEngineTck}: a clone stays what it
 * was when taken; open counts, the format's limits and sessions as a file system's clients meet them; two
 * clients racing on the same names; the edges of the POSIX rules (rename flags and dot names, replaced
 * targets, link counts, xattr sizes). The harness ({@link MetadataEngineKit}) ends every test with the
 * engine's own check, so a race that left the records inconsistent fails even where the tree looks right;
 * the racing tests also compare the whole tree as both clients see it.
 */
public abstract class MetadataEngineEdgeTck extends MetadataEngineKit {

    /**
     * Gives {@code file} (a regular file) {@code count} more names, "l1" … "l&lt;count&gt;" in directory
     * {@code dir}, as that many {@link MetadataEngine#link} calls would. The default makes the calls; an
     * engine whose test can write its backend directly may do it in one step (65,000 calls cost a minute on
     * a backend that syncs every change). The check after the test verifies the records either way.
     */
    protected void addLinks(long file, long dir, int count) throws Exception {
        for (int i = 1; i <= count; i++) {
            meta.link(file, dir, "l" + i);
        }
    }

    // ---- clones are snapshots ----

    @Test
    void aCloneKeepsItsSliceListsWhenTheSourceIsCompactedOrTruncated() throws Exception {
        long f = file(ROOT, "f").inode();
        int cs = format.chunkSize();
        Slice a = write(f, 0, 0, 1000);
        Slice b = write(f, 0, 500, 1000);
        Slice c = write(f, 0, 200, 10);
        Slice d = write(f, 1, 0, 5000);
        long copy = meta.clone(f, ROOT, "copy", UID, GID).inode();
        List<Slice> chunk0 = List.of(a, b, c);

        // Compacting the source swaps its own records only: the clone's still name the old slices.
        Slice merged = new Slice(meta.newSliceIds(1), 1500, 0, 1500, 0);
        assertTrue(meta.compactChunk(f, 0, chunk0, List.of(merged)));
        assertEquals(List.of(merged), meta.readChunk(f, 0));
        assertEquals(chunk0, meta.readChunk(copy, 0));
        assertEquals(Set.of(), pending(), "the clone still references what the compaction replaced");
        // ...and the other way round.
        Slice d2 = new Slice(meta.newSliceIds(1), 5000, 0, 5000, 0);
        assertTrue(meta.compactChunk(copy, 1, List.of(d), List.of(d2)));
        assertEquals(List.of(d), meta.readChunk(f, 1));
        assertEquals(Set.of(), pending(), "the source still references what the clone's compaction replaced");

        // Truncating the source drops and cuts its chunks; the clone keeps its records and its length.
        meta.truncate(f, 100);
        assertEquals(List.of(), meta.readChunk(f, 1));
        assertEquals(Set.of(ref(d)), pending(), "neither file names d any more");
        meta.truncate(f, 0);
        assertEquals(Set.of(ref(d), ref(merged)), pending());
        assertEquals(chunk0, meta.readChunk(copy, 0));
        assertEquals(List.of(d2), meta.readChunk(copy, 1));
        assertEquals(cs + 5000L, meta.getattr(copy).length());
        assertEquals(a.id(), visibleAt(meta.readChunk(copy, 0), 100), "the clone still reads the source's old bytes");

        meta.unlink(ROOT, "copy");
        assertEquals(Set.of(ref(a), ref(b), ref(c), ref(d), ref(d2), ref(merged)), pending());
    }

    @Test
    void hardLinksInsideAClonedTreeBecomeSeparateFiles() throws Exception {
        long d = dir(ROOT, "d").inode();
        long s = dir(d, "s").inode();
        long f = file(d, "f").inode();
        long base = meta.statfs().usedBytes();
        Slice data = write(f, 0, 0, 5000);
        long space = meta.statfs().usedBytes() - base;
        meta.setxattr(f, "user.k", new byte[] {1}, 0);
        meta.link(f, d, "g");
        meta.link(f, s, "h");
        meta.link(f, ROOT, "outside");
        assertEquals(4, nlink(f));
        StatFs before = meta.statfs();

        long c = meta.clone(d, ROOT, "c", UID, GID).inode();
        long cs = ino(c, "s");
        List<Long> copies = List.of(ino(c, "f"), ino(c, "g"), ino(cs, "h"));
        assertEquals(3, new HashSet<>(copies).size(), "each name of the linked file became a file of its own");
        List<Long> parents = List.of(c, c, cs);
        for (int i = 0; i < copies.size(); i++) {
            long x = copies.get(i);
            Attr a = meta.getattr(x);
            assertNotEquals(f, x);
            assertEquals(1, a.nlink());
            assertEquals(parents.get(i), a.parent(), "a copy with one name names its directory");
            assertEquals(List.of(data), meta.readChunk(x, 0));
            assertArrayEquals(new byte[] {1}, meta.getxattr(x, "user.k"));
        }
        assertEquals(4, nlink(f), "the source keeps every link");
        assertEquals(0, meta.getattr(f).parent());
        // Five new inodes (c, c/s and three files), each file counting its own length.
        assertEquals(before.usedInodes() + 5, meta.statfs().usedInodes());
        assertEquals(before.usedBytes() + 3 * space, meta.statfs().usedBytes());

        // The copies are independent of each other too.
        Slice other = write(copies.get(1), 0, 0, 10);
        assertEquals(List.of(data), meta.readChunk(copies.get(0), 0));
        assertEquals(List.of(data), meta.readChunk(copies.get(2), 0));
        meta.unlink(c, "f");
        assertEquals(List.of(data, other), meta.readChunk(copies.get(1), 0));
        removeTree(ROOT, "c");
        removeTree(ROOT, "d");
        assertEquals(Set.of(ref(other)), pending(), "the source's last name still holds the data");
        meta.unlink(ROOT, "outside");
        assertEquals(Set.of(ref(other), ref(data)), pending());
    }

    @Test
    void aCloneRacingWritersSeesAPrefixOfEachFile() throws Exception {
        MetadataEngine o = other();
        long src = dir(ROOT, "src").inode();
        int files = 3;
        long[] inos = new long[files];
        for (int i = 0; i < files; i++) {
            inos[i] = file(src, "f" + i).inode();
        }
        AtomicInteger clones = new AtomicInteger();
        CountDownLatch writing = new CountDownLatch(files);
        ExecutorService p = pool(files);
        List<Future<List<Slice>>> writers = new ArrayList<>();
        for (int i = 0; i < files; i++) {
            long f = inos[i];
            writers.add(p.submit(() -> {
                // Appends, each extending the file to its end: a consistent copy has some first n records and
                // exactly the length they make. Writing goes on until several clones were taken meanwhile.
                List<Slice> mine = new ArrayList<>();
                for (int n = 0; n < 3000 && (n < 40 || clones.get() < 4); n++) {
                    mine.add(write(o, f, 0, n * 100, 100));
                    if (n == 10) {
                        writing.countDown();
                    }
                }
                return mine;
            }));
        }
        assertTrue(writing.await(60, TimeUnit.SECONDS), "the writers did not get going");
        List<Long> copies = new ArrayList<>();
        while ((clones.get() < 4 || writers.stream().anyMatch(w -> !w.isDone())) && copies.size() < 200) {
            copies.add(meta.clone(src, ROOT, "copy" + copies.size(), 7, 8).inode());
            clones.incrementAndGet();
        }
        List<List<Slice>> history = all(writers);
        int[] seen = new int[files];
        for (long copy : copies) {
            for (int i = 0; i < files; i++) {
                long f = ino(copy, "f" + i);
                List<Slice> recs = meta.readChunk(f, 0);
                List<Slice> full = history.get(i);
                assertTrue(recs.size() <= full.size());
                assertEquals(full.subList(0, recs.size()), recs, "a clone holds a prefix of what was written");
                assertEquals(100L * recs.size(), meta.getattr(f).length(), "and the length those records made");
                assertTrue(recs.size() >= seen[i], "a later clone never holds less");
                seen[i] = recs.size();
            }
        }
        for (int i = 0; i < files; i++) {
            assertEquals(history.get(i), meta.readChunk(inos[i], 0));
        }
        assertEquals(snapshot(), TreeSnapshot.of(o, ROOT, format.chunkSize()));
    }

    // ---- open counts ----

    @Test
    void twoOpensNeedTwoReleases() throws Exception {
        long f = file(ROOT, "f").inode();
        Slice s = write(f, 0, 0, 100);
        long session = meta.openSession("tck");
        meta.open(session, f);
        meta.open(session, f);
        meta.unlink(ROOT, "f");
        meta.release(session, f);
        assertEquals(0, nlink(f), "one release of two opens keeps the unlinked file");
        assertEquals(List.of(s), meta.readChunk(f, 0));
        assertEquals(Set.of(), pending());
        meta.release(session, f);
        assertErrno(Errno.ENOENT, () -> meta.getattr(f));
        assertEquals(Set.of(ref(s)), pending());
        meta.release(session, f); // nothing left to release
        meta.closeSession(session);
    }

    @Test
    void opensAreCountedPerSessionAcrossClients() throws Exception {
        MetadataEngine o = other();
        long f = file(ROOT, "f").inode();
        long g = file(ROOT, "g").inode();
        Slice sf = write(f, 0, 0, 100);
        Slice sg = write(g, 0, 0, 100);
        long mine = meta.openSession("one");
        long theirs = o.openSession("two");
        meta.open(mine, f);
        o.open(theirs, f);
        o.open(theirs, f);
        o.open(theirs, g);
        o.open(theirs, g);
        meta.unlink(ROOT, "f");
        meta.unlink(ROOT, "g");
        meta.release(mine, f);
        o.release(theirs, f);
        assertEquals(0, nlink(f), "the other session still holds one open");
        // A session's own opens are its own: releasing f in this session again changes nothing.
        meta.release(mine, f);
        assertEquals(0, nlink(f));
        o.release(theirs, f);
        assertErrno(Errno.ENOENT, () -> meta.getattr(f));
        // Ending a session drops every open count it had, however many.
        assertEquals(0, nlink(g));
        o.closeSession(theirs);
        assertErrno(Errno.ENOENT, () -> meta.getattr(g));
        assertEquals(Set.of(ref(sf), ref(sg)), pending());
        meta.closeSession(mine);
    }

    // ---- limits set at format ----

    @Test
    @VolumeLimits(inodes = 6)
    void theInodeLimitIsReportedAndEnforced() throws Exception {
        assertEquals(6, meta.statfs().inodeLimit());
        assertEquals(6, other().statfs().inodeLimit());
        long d = dir(ROOT, "d").inode();
        long f = file(d, "f").inode();
        meta.mknod(d, "l", FileType.SYMLINK, 0777, UID, GID, 0, "f");
        file(ROOT, "g");
        meta.mknod(ROOT, "p", FileType.FIFO, 0644, UID, GID, 0, null);
        assertEquals(6, meta.statfs().usedInodes(), "the root and five nodes");
        TreeSnapshot before = snapshot();
        MetadataEngine o = other();
        assertErrno(Errno.ENOSPC, () -> file(ROOT, "x"));
        assertErrno(Errno.ENOSPC, () -> dir(d, "x"));
        assertErrno(Errno.ENOSPC, () -> meta.mknod(ROOT, "x", FileType.SYMLINK, 0777, UID, GID, 0, "t"));
        assertErrno(Errno.ENOSPC, () -> meta.clone(f, ROOT, "x", UID, GID));
        assertErrno(Errno.ENOSPC, () -> o.mknod(ROOT, "x", FileType.FILE, 0644, UID, GID, 0, null));
        assertEquals(before, snapshot());
        assertEquals(6, meta.statfs().usedInodes());
        // Names cost no inode: links and renames work at the limit.
        meta.link(f, ROOT, "f2");
        meta.rename(ROOT, "g", d, "g", 0);
        // One node freed makes room for exactly one.
        meta.unlink(ROOT, "p");
        file(ROOT, "x");
        assertErrno(Errno.ENOSPC, () -> file(ROOT, "y"));
        // A tree's clone needs room for all of it.
        assertErrno(Errno.ENOSPC, () -> meta.clone(d, ROOT, "copy", UID, GID));
        assertErrno(Errno.ENOENT, () -> meta.lookup(ROOT, "copy"));
        assertEquals(6, meta.statfs().usedInodes());
    }

    @Test
    @VolumeLimits(capacityBytes = 16 * 4096)
    void theCapacityIsReportedAndEnforced() throws Exception {
        int unit = 4096;
        assertEquals(16 * unit, meta.statfs().capacityBytes());
        assertEquals(16 * unit, other().statfs().capacityBytes());
        long f = file(ROOT, "f").inode();
        long g = file(ROOT, "g").inode();
        Slice a = write(f, 0, 0, 8 * unit);
        write(g, 0, 0, 8 * unit);
        assertEquals(16 * unit, meta.statfs().usedBytes(), "exactly the capacity may be used");
        TreeSnapshot before = snapshot();
        Set<SliceRef> pendingBefore = pending();
        MetadataEngine o = other();
        assertErrno(Errno.ENOSPC, () -> write(f, 0, 8 * unit, 1));
        assertErrno(Errno.ENOSPC, () -> write(o, g, 1, 0, 10));
        assertErrno(Errno.ENOSPC, () -> meta.truncate(g, 8 * unit + 1));
        assertErrno(Errno.ENOSPC, () -> meta.clone(f, ROOT, "copy", UID, GID));
        assertEquals(before, snapshot());
        assertEquals(pendingBefore, pending());
        assertEquals(16 * unit, meta.statfs().usedBytes());
        // Overwriting inside the length costs nothing: a full volume still takes it.
        Slice c = write(f, 0, 0, unit);
        assertEquals(List.of(a, c), meta.readChunk(f, 0));
        // Nodes without length take no space.
        long empty = file(ROOT, "empty").inode();
        dir(ROOT, "d");
        meta.mknod(ROOT, "l", FileType.SYMLINK, 0777, UID, GID, 0, "f");
        meta.clone(empty, ROOT, "empty-copy", UID, GID);
        // Shrinking frees space, and exactly what is free can be used again.
        meta.truncate(g, 4 * unit);
        write(f, 0, 8 * unit, 4 * unit);
        assertEquals(16 * unit, meta.statfs().usedBytes());
        assertErrno(Errno.ENOSPC, () -> meta.truncate(f, 12L * unit + 1));
        assertEquals(12 * unit, meta.getattr(f).length());
    }

    // ---- sessions ----

    /** Sleeps until the clock is past {@code ms}. */
    private static void waitPast(long ms) throws InterruptedException {
        while (System.currentTimeMillis() <= ms) {
            Thread.sleep(10);
        }
    }

    /**
     * Between the last heartbeats of the "old" sessions and the first of the "new" ones: a margin for the
     * clean call, which must read its clock within that long of the test's (a hang guard, not a timing
     * check: nothing is measured).
     */
    private static final long HEARTBEAT_GAP_MS = 2500;

    @Test
    void cleaningEndsOnlyTheStaleSessionsAndReclaimsOnlyWhatNoLiveOneHolds() throws Exception {
        MetadataEngine o = other();
        long shared = file(ROOT, "shared").inode();
        long alone = file(ROOT, "alone").inode();
        Slice ss = write(shared, 0, 0, 100);
        Slice sa = write(alone, 0, 0, 100);
        long stale = o.openSession("goes silent");
        long kept = o.openSession("kept alive by a heartbeat");
        o.open(stale, shared);
        o.open(stale, alone);
        o.open(kept, shared);
        long silentSince = System.currentTimeMillis();
        waitPast(silentSince + HEARTBEAT_GAP_MS);
        long live = meta.openSession("opened later");
        meta.open(live, shared);
        o.heartbeat(kept);
        meta.unlink(ROOT, "shared");
        meta.unlink(ROOT, "alone");

        // Stale: silent since before silentSince. The other two were heard from after it.
        long now = System.currentTimeMillis();
        assertEquals(1, meta.cleanStaleSessions(now - silentSince - 1));
        assertErrno(Errno.ENOENT, () -> o.heartbeat(stale));
        o.heartbeat(kept);
        meta.heartbeat(live);
        assertErrno(Errno.ENOENT, () -> meta.getattr(alone));
        assertEquals(Set.of(ref(sa)), pending(), "what only the stale session held is reclaimed");
        assertEquals(0, nlink(shared), "what a live session holds is kept");
        assertEquals(List.of(ss), meta.readChunk(shared, 0));

        // The unlinked file goes with the release of the last live session that holds it.
        o.release(kept, shared);
        assertEquals(0, nlink(shared));
        o.release(stale, shared); // the ended session holds nothing any more
        assertEquals(0, nlink(shared));
        meta.release(live, shared);
        assertErrno(Errno.ENOENT, () -> meta.getattr(shared));
        assertEquals(Set.of(ref(sa), ref(ss)), pending());
        assertEquals(0, meta.cleanStaleSessions(3_600_000L));
        meta.closeSession(live);
        o.closeSession(kept);
    }

    @Test
    void aClientThatDiedHoldingUnlinkedFilesIsCleanedUpByAnother() throws Exception {
        MetadataEngine dead = other();
        long session = dead.openSession("dies");
        long f = file(ROOT, "f").inode();
        Slice f0 = write(f, 0, 0, 100);
        Slice f1 = write(f, 1, 0, 100);
        long g = file(ROOT, "g").inode();
        Slice g0 = write(g, 0, 0, 100);
        long kept = file(ROOT, "kept").inode();
        write(kept, 0, 0, 100);
        long linked = file(ROOT, "linked").inode();
        write(linked, 0, 0, 100);
        meta.link(linked, ROOT, "second");
        dead.open(session, f);
        dead.open(session, f);
        dead.open(session, g);
        dead.open(session, kept);
        dead.open(session, linked);
        meta.unlink(ROOT, "f");
        meta.unlink(ROOT, "g");
        meta.unlink(ROOT, "linked");
        dead.close(); // no release, no closeSession: the process is gone

        assertEquals(0, nlink(f), "the dead session still holds its files");
        assertEquals(List.of(f1), meta.readChunk(f, 1));
        assertEquals(Set.of(), pending());
        long lastHeard = System.currentTimeMillis();
        waitPast(lastHeard);
        assertEquals(1, meta.cleanStaleSessions(0));
        assertErrno(Errno.ENOENT, () -> meta.getattr(f));
        assertErrno(Errno.ENOENT, () -> meta.getattr(g));
        assertEquals(1, nlink(kept));
        assertEquals(1, nlink(linked));
        assertEquals(linked, ino(ROOT, "second"));
        assertEquals(Set.of(ref(f0), ref(f1), ref(g0)), pending());
        assertEquals(3, meta.statfs().usedInodes(), "the root, kept and linked");
        assertEquals(0, meta.cleanStaleSessions(0));
    }

    // ---- two clients racing on the same names ----

    private interface Op {
        void run() throws Exception;
    }

    /** Starts two operations at once on two threads; their errnos (null: it succeeded), in order. */
    private static List<Errno> race(ExecutorService p, Op first, Op second) throws Exception {
        CountDownLatch start = new CountDownLatch(1);
        Future<Errno> a = p.submit(() -> {
            start.await();
            return outcome(first);
        });
        Future<Errno> b = p.submit(() -> {
            start.await();
            return outcome(second);
        });
        start.countDown();
        List<Errno> out = new ArrayList<>();
        out.add(a.get(60, TimeUnit.SECONDS));
        out.add(b.get(60, TimeUnit.SECONDS));
        return out;
    }

    private static Errno outcome(Op op) throws Exception {
        try {
            op.run();
            return null;
        } catch (FsException e) {
            return e.errno();
        }
    }

    /** Walking ".." from {@code dir} reaches the root: no cycle, no detached branch. */
    private void assertReachesTheRoot(long dir) throws FsException {
        long cur = dir;
        for (int hops = 0; cur != ROOT; hops++) {
            assertTrue(hops < 100, "walking up from " + dir + " never reaches the root");
            cur = ino(cur, "..");
        }
    }

    private void assertBothClientsSeeOneTree(MetadataEngine o) throws FsException {
        assertEquals(snapshot(), TreeSnapshot.of(o, ROOT, format.chunkSize()), "the tree as the two clients see it");
    }

    @Test
    void renameCyclesFromTwoClientsNeverCloseALoop() throws Exception {
        MetadataEngine o = other();
        ExecutorService p = pool(2);
        for (int round = 0; round < 40; round++) {
            long r = dir(ROOT, "r" + round).inode();
            long a = dir(r, "a").inode();
            long b = dir(r, "b").inode();
            // Odd rounds: b goes deeper, into a/x, while a goes into b.
            boolean deep = round % 2 == 1;
            long into = deep ? dir(a, "x").inode() : a;
            List<Errno> out = race(p, () -> meta.rename(r, "a", b, "a", 0), () -> o.rename(r, "b", into, "b", 0));
            assertFalse(out.get(0) == null && out.get(1) == null, "both moves succeeded: a cycle");
            for (Errno e : out) {
                assertTrue(e == null || e == Errno.EINVAL, "moving a directory below itself: " + out);
            }
            Set<String> paths = TreeSnapshot.of(meta, r, format.chunkSize()).nodes().keySet();
            Set<String> expected;
            if (out.get(0) == null) {
                expected = deep ? Set.of("/", "/b", "/b/a", "/b/a/x") : Set.of("/", "/b", "/b/a");
            } else if (out.get(1) == null) {
                expected = deep ? Set.of("/", "/a", "/a/x", "/a/x/b") : Set.of("/", "/a", "/a/b");
            } else {
                expected = deep ? Set.of("/", "/a", "/a/x", "/b") : Set.of("/", "/a", "/b");
            }
            assertEquals(expected, paths, out.toString());
            assertReachesTheRoot(a);
            assertReachesTheRoot(b);
            assertEquals(2 + names(r).size(), nlink(r));
        }
        assertBothClientsSeeOneTree(o);
    }

    @Test
    void rmdirRacingACreateInsideEitherRemovesItOrKeepsItNonEmpty() throws Exception {
        MetadataEngine o = other();
        ExecutorService p = pool(2);
        for (int round = 0; round < 40; round++) {
            String name = "d" + round;
            long d = dir(ROOT, name).inode();
            FileType type = round % 2 == 0 ? FileType.FILE : FileType.DIRECTORY;
            List<Errno> out = race(p, () -> meta.rmdir(ROOT, name),
                    () -> o.mknod(d, "x", type, 0755, UID, GID, 0, null));
            if (out.get(0) == null) {
                assertEquals(Errno.ENOENT, out.get(1), "a create inside a removed directory: " + out);
                assertErrno(Errno.ENOENT, () -> meta.getattr(d));
                assertErrno(Errno.ENOENT, () -> meta.lookup(ROOT, name));
            } else {
                assertEquals(Errno.ENOTEMPTY, out.get(0), out.toString());
                assertNull(out.get(1), out.toString());
                assertEquals(List.of("x"), names(d));
                assertEquals(type == FileType.DIRECTORY ? 3 : 2, nlink(d));
            }
        }
        TreeSnapshot s = snapshot();
        assertEquals(s.nodes().size(), meta.statfs().usedInodes(), "no node was left outside the tree");
        long topDirs = s.nodes().entrySet().stream()
                .filter(e -> e.getKey().matches("/[^/]+") && e.getValue().type() == FileType.DIRECTORY).count();
        assertEquals(2 + topDirs, nlink(ROOT));
        assertBothClientsSeeOneTree(o);
    }

    @Test
    void linkRacingTheLastUnlinkEitherKeepsTheFileOrFindsItGone() throws Exception {
        MetadataEngine o = other();
        ExecutorService p = pool(2);
        Set<SliceRef> freed = new HashSet<>();
        for (int round = 0; round < 40; round++) {
            String name = "f" + round;
            String link = "g" + round;
            long f = file(ROOT, name).inode();
            Slice s = write(f, 0, 0, 100);
            // Odd rounds: the file is open, so the unlink parks it instead of reclaiming it.
            boolean open = round % 2 == 1;
            long session = open ? meta.openSession("holds " + name) : 0;
            if (open) {
                meta.open(session, f);
            }
            List<Errno> out = race(p, () -> meta.unlink(ROOT, name), () -> o.link(f, ROOT, link));
            assertNull(out.get(0), out.toString());
            if (out.get(1) == null) {
                // The link came first: the file lives on under its new name.
                Attr a = meta.lookup(ROOT, link).attr();
                assertEquals(f, a.inode());
                assertEquals(1, a.nlink());
                assertEquals(ROOT, a.parent());
                assertEquals(List.of(s), meta.readChunk(f, 0));
            } else {
                assertEquals(Errno.ENOENT, out.get(1), "a link to an unlinked file: " + out);
                assertErrno(Errno.ENOENT, () -> meta.lookup(ROOT, link));
                if (open) {
                    assertEquals(0, nlink(f));
                } else {
                    assertErrno(Errno.ENOENT, () -> meta.getattr(f));
                }
                freed.add(ref(s));
            }
            if (open) {
                meta.release(session, f);
                meta.closeSession(session);
            }
            assertEquals(freed, pending());
        }
        assertEquals(snapshot().nodes().size(), meta.statfs().usedInodes());
        assertBothClientsSeeOneTree(o);
    }

    @Test
    void truncateRacingWritesLeavesNothingVisiblePastTheEnd() throws Exception {
        MetadataEngine o = other();
        long f = file(ROOT, "f").inode();
        int cs = format.chunkSize();
        ExecutorService p = pool(1);
        AtomicInteger truncates = new AtomicInteger();
        Future<List<Slice>> writer = p.submit(() -> {
            List<Slice> mine = new ArrayList<>();
            for (int i = 0; i < 3000 && (i < 200 || truncates.get() < 20); i++) {
                int chunk = i % 3 == 2 ? 1 : 0;
                mine.add(write(o, f, chunk, (i * 4096) % (cs - 8192), 8192));
            }
            return mine;
        });
        Random r = new Random(5);
        while (!writer.isDone() && truncates.get() < 10_000) {
            meta.truncate(f, r.nextInt(4) == 0 ? 0 : (long) (r.nextDouble() * 2 * cs));
            truncates.incrementAndGet();
        }
        List<Slice> written = writer.get(60, TimeUnit.SECONDS);

        long length = meta.getattr(f).length();
        Set<Long> named = new HashSet<>();
        for (int idx = 0; idx < 3; idx++) {
            List<Slice> recs = meta.readChunk(f, idx);
            recs.stream().filter(s -> !s.isHole()).forEach(s -> named.add(s.id()));
            long start = (long) idx * cs;
            if (start >= length) {
                assertEquals(List.of(), recs, "chunk " + idx + " lies past the end " + length);
                continue;
            }
            // Inside the last chunk, every position from the end on reads as zeros.
            int end = (int) Math.min(cs, length - start);
            for (Slice s : recs) {
                for (int pos : new int[] {s.pos(), s.end() - 1, Math.max(s.pos(), end)}) {
                    if (pos >= end && pos < s.end()) {
                        assertEquals(0, visibleAt(recs, pos), "chunk " + idx + " shows data at " + pos + ", past the end "
                                + length);
                    }
                }
            }
        }
        Set<Long> ids = written.stream().map(Slice::id).collect(Collectors.toSet());
        Set<Long> freed = pending().stream().map(SliceRef::id).collect(Collectors.toSet());
        Set<Long> both = new HashSet<>(named);
        both.retainAll(freed);
        assertEquals(Set.of(), both, "slices both named by the file and queued for deletion");
        Set<Long> accounted = new HashSet<>(named);
        accounted.addAll(freed);
        assertEquals(ids, accounted, "every written slice is either named by the file or queued for deletion");
        assertBothClientsSeeOneTree(o);
    }

    @Test
    void compactionRacingAnotherClientsWritesKeepsEveryLaterRecordOnTop() throws Exception {
        MetadataEngine o = other();
        long f = file(ROOT, "f").inode();
        ExecutorService p = pool(1);
        AtomicInteger compactions = new AtomicInteger();
        Future<List<Slice>> writer = p.submit(() -> {
            List<Slice> mine = new ArrayList<>();
            for (int i = 0; i < 3000 && (i < 100 || compactions.get() < 5); i++) {
                mine.add(write(o, f, 0, (i * 1000) % 60_000, 1000));
            }
            return mine;
        });
        List<Slice> merged = new ArrayList<>();
        Set<SliceRef> replaced = new HashSet<>();
        int written = 0;
        while (!writer.isDone() && merged.size() < 10_000) {
            List<Slice> recs = meta.readChunk(f, 0);
            if (recs.size() < 4) {
                Thread.sleep(1);
                continue;
            }
            int end = recs.stream().mapToInt(Slice::end).max().orElseThrow();
            Slice m = new Slice(meta.newSliceIds(1), end, 0, end, 0);
            // Only appends can have happened since the read: the records read are still the chunk's first.
            assertTrue(meta.compactChunk(f, 0, recs, List.of(m)), "a compaction refused although only appends raced it");
            written += merged.isEmpty() ? recs.size() : recs.size() - 1;
            merged.add(m);
            recs.forEach(s -> replaced.add(ref(s)));
            compactions.incrementAndGet();
        }
        List<Slice> all = writer.get(60, TimeUnit.SECONDS);
        assertFalse(merged.isEmpty());
        List<Slice> expected = new ArrayList<>();
        expected.add(merged.get(merged.size() - 1));
        expected.addAll(all.subList(written, all.size()));
        assertEquals(expected, meta.readChunk(f, 0), "the last compaction's slice, then every record written after its read");
        assertEquals(replaced, pending(), "what compactions replaced, and nothing else, waits for deletion");
        assertEquals(all.stream().mapToLong(Slice::end).max().orElseThrow(), meta.getattr(f).length());
        assertBothClientsSeeOneTree(o);
    }

    // ---- compaction at the edges of a file ----

    @Test
    void compactingWithNoExpectedRecordsPutsTheReplacementFirstButNeverPastTheEnd() throws Exception {
        long f = file(ROOT, "f").inode();
        Slice a = write(f, 1, 0, 100); // chunk 0 holds nothing, chunk 1 one record
        Slice x = new Slice(meta.newSliceIds(1), 50, 0, 50, 0);
        assertTrue(meta.compactChunk(f, 0, List.of(), List.of(x)));
        assertEquals(List.of(x), meta.readChunk(f, 0));
        Slice y = new Slice(meta.newSliceIds(1), 10, 0, 10, 20);
        assertTrue(meta.compactChunk(f, 1, List.of(), List.of(y)));
        assertEquals(List.of(y, a), meta.readChunk(f, 1));
        // Past the end of the file there is nothing to compact: records there would show if it grew.
        Slice z = new Slice(meta.newSliceIds(1), 10, 0, 10, 0);
        assertFalse(meta.compactChunk(f, 2, List.of(), List.of(z)));
        assertEquals(List.of(), meta.readChunk(f, 2));
        meta.truncate(f, 3L * format.chunkSize());
        assertEquals(0, visibleAt(meta.readChunk(f, 2), 5));
        long d = dir(ROOT, "d").inode();
        long l = meta.mknod(ROOT, "l", FileType.SYMLINK, 0777, UID, GID, 0, "f").inode();
        assertErrno(Errno.EISDIR, () -> meta.compactChunk(d, 0, List.of(), List.of(z)));
        assertErrno(Errno.EINVAL, () -> meta.compactChunk(l, 0, List.of(), List.of(z)));
        // Everything the compactions put in goes with the file.
        meta.unlink(ROOT, "f");
        assertEquals(Set.of(ref(a), ref(x), ref(y)), pending());
    }

    // ---- rename at the edges of the rules ----

    @Test
    void renameChecksItsFlagsFirstAndNeverRenamesDotNames() throws Exception {
        long d = dir(ROOT, "d").inode();
        file(d, "f");
        TreeSnapshot before = snapshot();
        int both = RenameFlags.NOREPLACE | RenameFlags.EXCHANGE;
        // Unknown flags, or NOREPLACE with EXCHANGE: EINVAL before the names are looked at.
        assertErrno(Errno.EINVAL, () -> meta.rename(d, "f", ROOT, "g", both));
        assertErrno(Errno.EINVAL, () -> meta.rename(d, "missing", ROOT, "g", both));
        assertErrno(Errno.EINVAL, () -> meta.rename(d, ".", ROOT, "g", both));
        assertErrno(Errno.EINVAL, () -> meta.rename(d, "f", ROOT, "..", both));
        assertErrno(Errno.EINVAL, () -> meta.rename(d, "f", ROOT, "g", 4)); // RENAME_WHITEOUT
        assertErrno(Errno.EINVAL, () -> meta.rename(d, "f", ROOT, "g", 1 << 10));
        for (String dot : List.of(".", "..")) {
            for (int flags : new int[] {0, RenameFlags.NOREPLACE, RenameFlags.EXCHANGE}) {
                // As the source: EBUSY, as renameat2(2) gives for a last component that is a dot.
                assertErrno(Errno.EBUSY, () -> meta.rename(d, dot, ROOT, "g", flags));
                assertErrno(Errno.EBUSY, () -> meta.rename(ROOT, dot, d, "g", flags));
                // As the destination: EBUSY, or EEXIST when asked not to replace.
                Errno dst = flags == RenameFlags.NOREPLACE ? Errno.EEXIST : Errno.EBUSY;
                assertErrno(dst, () -> meta.rename(d, "f", d, dot, flags));
                assertErrno(dst, () -> meta.rename(ROOT, "d", d, dot, flags));
                assertErrno(dst, () -> meta.rename(d, "f", ROOT, dot, flags));
            }
        }
        assertEquals(before, snapshot());
    }

    @Test
    void dotNamesGetTheErrnosOfLinuxEverywhere() throws Exception {
        long d = dir(ROOT, "d").inode();
        long f = file(d, "f").inode();
        TreeSnapshot before = snapshot();
        for (String dot : List.of(".", "..")) {
            assertErrno(Errno.EISDIR, () -> meta.unlink(d, dot));
            assertErrno(Errno.EEXIST, () -> file(d, dot));
            assertErrno(Errno.EEXIST, () -> dir(d, dot));
            assertErrno(Errno.EEXIST, () -> meta.mknod(d, dot, FileType.SYMLINK, 0777, UID, GID, 0, "f"));
            assertErrno(Errno.EEXIST, () -> meta.link(f, d, dot));
            assertErrno(Errno.EEXIST, () -> meta.clone(f, d, dot, UID, GID));
        }
        assertErrno(Errno.EINVAL, () -> meta.rmdir(d, "."));
        assertErrno(Errno.ENOTEMPTY, () -> meta.rmdir(d, ".."));
        assertEquals(before, snapshot());
    }

    @Test
    void anExchangeWithAnAncestorIsEinval() throws Exception {
        long a = dir(ROOT, "a").inode();
        long b = dir(a, "b").inode();
        long c = dir(b, "c").inode();
        file(c, "f");
        dir(a, "sibling");
        TreeSnapshot before = snapshot();
        // The destination is an ancestor of the source: it would land below itself.
        assertErrno(Errno.EINVAL, () -> meta.rename(a, "b", ROOT, "a", RenameFlags.EXCHANGE));
        assertErrno(Errno.EINVAL, () -> meta.rename(b, "c", ROOT, "a", RenameFlags.EXCHANGE));
        assertErrno(Errno.EINVAL, () -> meta.rename(b, "c", a, "b", RenameFlags.EXCHANGE));
        // The source is the ancestor.
        assertErrno(Errno.EINVAL, () -> meta.rename(ROOT, "a", a, "b", RenameFlags.EXCHANGE));
        assertErrno(Errno.EINVAL, () -> meta.rename(a, "b", b, "c", RenameFlags.EXCHANGE));
        // A directory and a file inside its own tree.
        assertErrno(Errno.EINVAL, () -> meta.rename(a, "b", c, "f", RenameFlags.EXCHANGE));
        assertErrno(Errno.EINVAL, () -> meta.rename(c, "f", a, "b", RenameFlags.EXCHANGE));
        // Without EXCHANGE, the ancestor as the destination is a non-empty directory, as rename(2) says.
        assertErrno(Errno.ENOTEMPTY, () -> meta.rename(b, "c", ROOT, "a", 0));
        assertEquals(before, snapshot());
        // Siblings exchange fine.
        meta.rename(a, "b", a, "sibling", RenameFlags.EXCHANGE);
        assertEquals(b, ino(a, "sibling"));
        assertEquals(a, ino(b, ".."));
    }

    @Test
    void aReplacedTargetTakesItsXattrsAlongOrKeepsThemWithItsOtherNames() throws Exception {
        long a = file(ROOT, "a").inode();
        meta.setxattr(a, "user.src", new byte[] {1}, 0);
        long b = file(ROOT, "b").inode();
        meta.setxattr(b, "user.dst", new byte[] {2}, 0);
        Slice sb = write(b, 0, 0, 100);
        meta.rename(ROOT, "a", ROOT, "b", 0);
        assertEquals(a, ino(ROOT, "b"));
        assertEquals(List.of("user.src"), meta.listxattr(ino(ROOT, "b")), "the name now has the source's xattrs only");
        assertErrno(Errno.ENOENT, () -> meta.listxattr(b));
        assertErrno(Errno.ENOENT, () -> meta.getxattr(b, "user.dst"));
        assertEquals(Set.of(ref(sb)), pending());

        // A target with other names loses one link and nothing else.
        long c = file(ROOT, "c").inode();
        meta.setxattr(c, "user.c", new byte[] {3}, 0);
        Slice sc = write(c, 0, 0, 100);
        long d = dir(ROOT, "d").inode();
        meta.link(c, d, "c2");
        meta.link(c, d, "c3");
        long e = file(ROOT, "e").inode();
        meta.rename(ROOT, "e", d, "c2", 0);
        assertEquals(e, ino(d, "c2"));
        assertEquals(2, nlink(c));
        assertEquals(0, meta.getattr(c).parent());
        assertEquals(c, ino(ROOT, "c"));
        assertEquals(c, ino(d, "c3"));
        assertArrayEquals(new byte[] {3}, meta.getxattr(c, "user.c"));
        assertEquals(List.of(sc), meta.readChunk(c, 0));
        meta.rename(ROOT, "b", d, "c3", 0);
        assertEquals(1, nlink(c));
        assertEquals(ROOT, meta.getattr(c).parent(), "back to one name, the file names its directory again");
        assertEquals(Set.of(ref(sb)), pending());

        // Its last name replaced while it is open: it keeps its xattrs until the release.
        long s = meta.openSession("tck");
        meta.open(s, c);
        meta.rename(d, "c2", ROOT, "c", 0);
        assertEquals(0, nlink(c));
        assertArrayEquals(new byte[] {3}, meta.getxattr(c, "user.c"));
        meta.release(s, c);
        assertErrno(Errno.ENOENT, () -> meta.getxattr(c, "user.c"));
        assertEquals(Set.of(ref(sb), ref(sc)), pending());
        meta.closeSession(s);
    }

    // ---- link counts ----

    @Test
    void aFileHasAtMostMaxLinksNames() throws Exception {
        long f = file(ROOT, "f").inode();
        long d = dir(ROOT, "many").inode();
        addLinks(f, d, MAX_LINKS - 3);
        assertEquals(MAX_LINKS - 2, nlink(f));
        meta.link(f, ROOT, "second-last");
        Attr last = other().link(f, ROOT, "last").attr();
        assertEquals(MAX_LINKS, last.nlink());
        assertEquals(0, last.parent());
        assertErrno(Errno.EMLINK, () -> meta.link(f, ROOT, "one-too-many"));
        assertErrno(Errno.EMLINK, () -> other().link(f, d, "one-too-many"));
        // The new name is checked first, as link(2) does.
        assertErrno(Errno.EEXIST, () -> meta.link(f, d, "l1"));
        assertErrno(Errno.ENOENT, () -> meta.lookup(ROOT, "one-too-many"));
        assertEquals(MAX_LINKS, nlink(f));
        // A rename adds no link: it works at the limit (onto another name of the same file it does nothing).
        meta.rename(d, "l1", ROOT, "moved", 0);
        meta.rename(d, "l2", ROOT, "moved", 0);
        assertEquals(MAX_LINKS, nlink(f));
        assertEquals(f, ino(d, "l2"));
        // One name less makes room for one more.
        meta.unlink(d, "l2");
        assertEquals(MAX_LINKS - 1, nlink(f));
        meta.link(f, ROOT, "again");
        assertErrno(Errno.EMLINK, () -> meta.link(f, ROOT, "and-again"));
        // A clone of the file is a new file with one name.
        assertEquals(1, meta.clone(f, ROOT, "copy", UID, GID).attr().nlink());
    }

    // ---- extended attributes at their limits ----

    @Test
    void xattrNamesAndValuesHaveTheLimitsOfLinux() throws Exception {
        long f = file(ROOT, "f").inode();
        String longest = "user." + "n".repeat(MAX_XATTR_NAME - 5);
        String tooLong = "user." + "n".repeat(MAX_XATTR_NAME - 4);
        String wide = "user." + "é".repeat(126); // 131 characters, 257 bytes
        assertEquals(MAX_XATTR_NAME, longest.getBytes(StandardCharsets.UTF_8).length);
        meta.setxattr(f, longest, new byte[] {1}, 0);
        assertArrayEquals(new byte[] {1}, meta.getxattr(f, longest));
        byte[] largest = new byte[MAX_XATTR_VALUE];
        new Random(1).nextBytes(largest);
        meta.setxattr(f, "user.big", largest, XattrFlags.CREATE);
        assertArrayEquals(largest, other().getxattr(f, "user.big"));
        TreeSnapshot before = snapshot();

        // Names: empty or longer than 255 bytes are ERANGE, for every call that takes a name.
        for (String bad : List.of("", tooLong, wide)) {
            assertErrno(Errno.ERANGE, () -> meta.setxattr(f, bad, new byte[] {1}, 0));
            assertErrno(Errno.ERANGE, () -> meta.getxattr(f, bad));
            assertErrno(Errno.ERANGE, () -> meta.removexattr(f, bad));
        }
        // Values longer than 64 KiB: E2BIG, checked before the attribute is looked up.
        byte[] tooBig = new byte[MAX_XATTR_VALUE + 1];
        assertErrno(Errno.E2BIG, () -> meta.setxattr(f, "user.new", tooBig, 0));
        assertErrno(Errno.E2BIG, () -> meta.setxattr(f, "user.big", tooBig, XattrFlags.REPLACE));
        assertErrno(Errno.E2BIG, () -> meta.setxattr(f, "user.big", tooBig, XattrFlags.CREATE));
        // The order of setxattr(2): flags, then the name, then the value.
        assertErrno(Errno.EINVAL, () -> meta.setxattr(f, "", tooBig, XattrFlags.CREATE | XattrFlags.REPLACE));
        assertErrno(Errno.EINVAL, () -> meta.setxattr(f, "user.a", new byte[] {1}, 4));
        assertErrno(Errno.ERANGE, () -> meta.setxattr(f, tooLong, tooBig, 0));
        assertEquals(before, snapshot());
        assertEquals(Set.of(longest, "user.big"), new HashSet<>(meta.listxattr(f)));
    }
}
