package io.hangar.meta.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.fs.Attr;
import io.hangar.fs.DirEntry;
import io.hangar.fs.Entry;
import io.hangar.fs.Errno;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.fs.RenameFlags;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.Slice;
import io.hangar.spi.meta.SliceRef;
import io.hangar.spi.meta.VolumeFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Behaviour specific to the Redis schema: usage counters, slice references, sessions, hard-link parents. */
class RedisEngineTest extends RedisTestSupport {
    private String prefix;
    private MetadataEngine m;

    @BeforeEach
    void openVolume() throws Exception {
        prefix = newPrefix();
        m = open(prefix);
        m.format(format("t"));
    }

    @AfterEach
    void checkAndClose() throws Exception {
        try {
            assertEquals(List.of(), NamespaceCheck.run(m, server.port(), prefix));
        } finally {
            m.close();
        }
    }

    private Entry file(long parent, String name) throws FsException {
        return m.mknod(parent, name, FileType.FILE, 0644, 1000, 1000, 0, null);
    }

    private Entry dir(long parent, String name) throws FsException {
        return m.mknod(parent, name, FileType.DIRECTORY, 0755, 1000, 1000, 0, null);
    }

    @Test
    void formatIsIdempotentForTheSameVolumeOnly() throws Exception {
        VolumeFormat f = m.load().orElseThrow();
        m.format(f);
        FsException e = assertThrows(FsException.class, () -> m.format(format("other")));
        assertEquals(Errno.EEXIST, e.errno());
        assertEquals(f, m.load().orElseThrow());
    }

    @Test
    void usageCountsFilesInFourKibUnits() throws Exception {
        long base = m.statfs().usedBytes();
        Entry f = file(MetadataEngine.ROOT, "f");
        long id = m.newSliceIds(1);
        m.writeSlice(f.inode(), 0, new Slice(id, 5000, 0, 5000, 0), 1);
        assertEquals(base + 8192, m.statfs().usedBytes());
        m.truncate(f.inode(), 1);
        assertEquals(base + 4096, m.statfs().usedBytes());
        assertEquals(2, m.statfs().usedInodes());
        m.unlink(MetadataEngine.ROOT, "f");
        assertEquals(base, m.statfs().usedBytes());
        assertEquals(1, m.statfs().usedInodes());
        assertEquals(List.of(new SliceRef(id, 5000)), m.pendingSliceDeletes(10));
    }

    @Test
    void limitsAreEnforcedBeforeAnythingChanges() throws Exception {
        String p = newPrefix();
        try (MetadataEngine small = open(p)) {
            small.format(new VolumeFormat("s", "u-1", "", 1 << 20, 4 << 20, 8192, 3, 0));
            small.mknod(MetadataEngine.ROOT, "a", FileType.FILE, 0644, 0, 0, 0, null);
            Entry b = small.mknod(MetadataEngine.ROOT, "b", FileType.FILE, 0644, 0, 0, 0, null);
            assertEquals(Errno.ENOSPC, assertThrows(FsException.class,
                    () -> small.mknod(MetadataEngine.ROOT, "c", FileType.FILE, 0644, 0, 0, 0, null)).errno());
            small.writeSlice(b.inode(), 0, new Slice(small.newSliceIds(1), 8192, 0, 8192, 0), 1);
            assertEquals(Errno.ENOSPC, assertThrows(FsException.class,
                    () -> small.writeSlice(b.inode(), 0, new Slice(9, 10, 0, 10, 8192), 2)).errno());
            assertEquals(1, small.readChunk(b.inode(), 0).size());
            assertEquals(Errno.ENOSPC, assertThrows(FsException.class,
                    () -> small.clone(b.inode(), MetadataEngine.ROOT, "copy", 0, 0)).errno());
            assertEquals(List.of(), NamespaceCheck.run(small, server.port(), p));
        }
    }

    @Test
    void slicesSharedByACloneAreDeletedAfterTheLastReference() throws Exception {
        Entry f = file(MetadataEngine.ROOT, "f");
        long id = m.newSliceIds(1);
        m.writeSlice(f.inode(), 0, new Slice(id, 100, 0, 100, 0), 1);
        Entry c = m.clone(f.inode(), MetadataEngine.ROOT, "c", 7, 8);
        assertEquals(7, c.attr().uid());
        assertEquals(100, c.attr().length());
        m.unlink(MetadataEngine.ROOT, "f");
        assertEquals(List.of(), m.pendingSliceDeletes(10));
        m.unlink(MetadataEngine.ROOT, "c");
        assertEquals(List.of(new SliceRef(id, 100)), m.pendingSliceDeletes(10));
        m.confirmSliceDeletes(List.of(new SliceRef(id, 100)));
        assertEquals(List.of(), m.pendingSliceDeletes(10));
    }

    @Test
    void compactionKeepsRecordsAppendedMeanwhileAndMovesReferences() throws Exception {
        Entry f = file(MetadataEngine.ROOT, "f");
        long first = m.newSliceIds(3);
        Slice a = new Slice(first, 10, 0, 10, 0);
        Slice b = new Slice(first + 1, 10, 0, 10, 5);
        m.writeSlice(f.inode(), 0, a, 1);
        m.writeSlice(f.inode(), 0, b, 2);
        List<Slice> seen = m.readChunk(f.inode(), 0);
        Slice late = new Slice(first + 2, 4, 0, 4, 1);
        m.writeSlice(f.inode(), 0, late, 3);
        Slice merged = new Slice(m.newSliceIds(1), 15, 0, 15, 0);
        assertTrue(m.compactChunk(f.inode(), 0, seen, List.of(merged)));
        assertEquals(List.of(merged, late), m.readChunk(f.inode(), 0));
        assertFalse(m.compactChunk(f.inode(), 0, seen, List.of()));
        Set<Long> freed = m.pendingSliceDeletes(10).stream().map(SliceRef::id).collect(Collectors.toSet());
        assertEquals(Set.of(first, first + 1), freed);
    }

    @Test
    void shrinkingLeavesAHoleOverTheCutPartOfTheLastChunk() throws Exception {
        Entry f = file(MetadataEngine.ROOT, "f");
        int cs = m.load().orElseThrow().chunkSize();
        long id = m.newSliceIds(2);
        m.writeSlice(f.inode(), 0, new Slice(id, 1000, 0, 1000, 0), 1);
        m.writeSlice(f.inode(), 1, new Slice(id + 1, 1000, 0, 1000, 0), 1);
        assertEquals(cs + 1000L, m.getattr(f.inode()).length());
        Attr a = m.truncate(f.inode(), 300);
        assertEquals(300, a.length());
        assertEquals(List.of(new Slice(id, 1000, 0, 1000, 0), Slice.hole(300, cs - 300)), m.readChunk(f.inode(), 0));
        assertEquals(List.of(), m.readChunk(f.inode(), 1));
        assertEquals(List.of(new SliceRef(id + 1, 1000)), m.pendingSliceDeletes(10));
    }

    @Test
    void hardLinkedFileKeepsItsParentOnceBackToOneName() throws Exception {
        Entry d = dir(MetadataEngine.ROOT, "d");
        Entry f = file(MetadataEngine.ROOT, "f");
        Entry l = m.link(f.inode(), d.inode(), "l");
        assertEquals(2, l.attr().nlink());
        assertEquals(0, l.attr().parent());
        m.unlink(MetadataEngine.ROOT, "f");
        assertEquals(d.inode(), m.getattr(f.inode()).parent());
        m.rename(d.inode(), "l", MetadataEngine.ROOT, "back", 0);
        assertEquals(MetadataEngine.ROOT, m.getattr(f.inode()).parent());
    }

    @Test
    void unlinkedOpenFileLivesUntilItsLastRelease() throws Exception {
        long s1 = m.openSession("one");
        long s2 = m.openSession("two");
        Entry f = file(MetadataEngine.ROOT, "f");
        long id = m.newSliceIds(1);
        m.writeSlice(f.inode(), 0, new Slice(id, 10, 0, 10, 0), 1);
        m.open(s1, f.inode());
        m.open(s2, f.inode());
        m.unlink(MetadataEngine.ROOT, "f");
        assertEquals(0, m.getattr(f.inode()).nlink());
        assertEquals(List.of(new Slice(id, 10, 0, 10, 0)), m.readChunk(f.inode(), 0));
        m.release(s1, f.inode());
        assertEquals(0, m.getattr(f.inode()).nlink());
        m.closeSession(s2);
        assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> m.getattr(f.inode())).errno());
        assertEquals(List.of(new SliceRef(id, 10)), m.pendingSliceDeletes(10));
        m.closeSession(s1);
    }

    @Test
    void staleSessionsAreEndedAndTheirDeletedFilesReclaimed() throws Exception {
        long crashed = m.openSession("crashed");
        Entry f = file(MetadataEngine.ROOT, "f");
        m.open(crashed, f.inode());
        m.unlink(MetadataEngine.ROOT, "f");
        Thread.sleep(20);
        long alive = m.openSession("alive");
        assertEquals(1, m.cleanStaleSessions(10));
        assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> m.getattr(f.inode())).errno());
        assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> m.heartbeat(crashed)).errno());
        m.heartbeat(alive);
        m.closeSession(alive);
    }

    @Test
    void renameExchangeSwapsDirectoriesAcrossParents() throws Exception {
        Entry a = dir(MetadataEngine.ROOT, "a");
        Entry b = dir(MetadataEngine.ROOT, "b");
        Entry x = dir(a.inode(), "x");
        Entry y = file(b.inode(), "y");
        m.rename(a.inode(), "x", b.inode(), "y", RenameFlags.EXCHANGE);
        assertEquals(b.inode(), m.getattr(x.inode()).parent());
        assertEquals(a.inode(), m.getattr(y.inode()).parent());
        assertEquals(2, m.getattr(a.inode()).nlink());
        assertEquals(3, m.getattr(b.inode()).nlink());
        assertEquals(Errno.EINVAL, assertThrows(FsException.class,
                () -> m.rename(MetadataEngine.ROOT, "b", x.inode(), "inside", 0)).errno());
    }

    @Test
    void readdirPagesInNameOrderWithAttributes() throws Exception {
        for (String n : List.of("b", "a", "c\u0001", "c", "ab")) {
            file(MetadataEngine.ROOT, n);
        }
        List<DirEntry> first = m.readdir(MetadataEngine.ROOT, null, 2, true);
        assertEquals(List.of("a", "ab"), first.stream().map(DirEntry::name).toList());
        assertEquals(FileType.FILE, first.get(0).attr().type());
        List<DirEntry> rest = m.readdir(MetadataEngine.ROOT, "ab", 10, false);
        assertEquals(List.of("b", "c", "c\u0001"), rest.stream().map(DirEntry::name).toList());
    }

    @Test
    void refusedMutationsChangeNothing() throws Exception {
        Entry d = dir(MetadataEngine.ROOT, "d");
        Entry sub = dir(d.inode(), "sub");
        file(d.inode(), "f");
        var before = m.statfs();
        Attr root = m.getattr(MetadataEngine.ROOT);
        assertEquals(Errno.ENOTEMPTY, assertThrows(FsException.class, () -> m.rmdir(MetadataEngine.ROOT, "d")).errno());
        assertEquals(Errno.EINVAL, assertThrows(FsException.class,
                () -> m.rename(MetadataEngine.ROOT, "d", sub.inode(), "loop", 0)).errno());
        assertEquals(Errno.EEXIST, assertThrows(FsException.class, () -> file(d.inode(), "f")).errno());
        assertEquals(Errno.ENOTDIR, assertThrows(FsException.class,
                () -> m.rename(MetadataEngine.ROOT, "d", d.inode(), "f", 0)).errno());
        assertEquals(before, m.statfs());
        assertEquals(root, m.getattr(MetadataEngine.ROOT));
        assertEquals(List.of("f", "sub"), m.readdir(d.inode(), null, 10, false).stream().map(DirEntry::name).toList());
    }
}
