package io.hangar.tck.meta;

import static io.hangar.spi.meta.MetadataEngine.ROOT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.fs.Attr;
import io.hangar.fs.DirEntry;
import io.hangar.fs.Entry;
import io.hangar.fs.Errno;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.fs.RenameFlags;
import io.hangar.fs.SetAttr;
import io.hangar.fs.StatFs;
import io.hangar.fs.XattrFlags;
import io.hangar.spi.meta.MetaProblem;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.SessionRecord;
import io.hangar.spi.meta.Slice;
import io.hangar.spi.meta.SliceRef;
import io.hangar.spi.meta.StoredSlice;
import io.hangar.spi.meta.VolumeFormat;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The conformance kit every {@link MetadataEngine} must pass, with {@link MetadataEngineEdgeTck} (limits,
 * edge cases of the POSIX rules, sessions and conflicting clients). The hooks and what runs around each test
 * are in {@link MetadataEngineKit}. Errors are checked by errno. Conventions the kit relies on beyond the
 * interface text: the root counts as one used inode and is its own parent; a file's {@code parent} is its
 * directory while it has one name; usage counts file lengths only, rounded up to a block of at most 4 KiB
 * (the kit compares deltas between non-empty lengths); a session's open count per inode is a counter.
 */
public abstract class MetadataEngineTck extends MetadataEngineKit {

    // ---- volume ----

    @Test
    void freshBackendLoadsNothing() {
        assertTrue(beforeFormat.isEmpty(), "a fresh backend must not hold a volume: " + beforeFormat);
    }

    @Test
    void formatIsLoadedBackByAnotherClient() throws Exception {
        assertEquals(Optional.of(format), meta.load());
        assertEquals(Optional.of(format), other().load());
    }

    @Test
    void formattingTheSameVolumeAgainIsANoOp() throws Exception {
        long f = file(ROOT, "kept").inode();
        meta.format(format);
        other().format(format);
        assertEquals(Optional.of(format), meta.load());
        assertEquals(f, ino(ROOT, "kept"));
    }

    @Test
    void formattingAnotherVolumeFailsWithEexist() throws Exception {
        file(ROOT, "kept");
        VolumeFormat another = new VolumeFormat("other", UUID.randomUUID().toString(), format.storage(),
                format.blockSize(), format.chunkSize(), 0, 0, System.currentTimeMillis());
        assertErrno(Errno.EEXIST, () -> meta.format(another));
        assertErrno(Errno.EEXIST, () -> other().format(another));
        assertEquals(Optional.of(format), meta.load());
        assertEquals(List.of("kept"), names(ROOT));
    }

    @Test
    void freshVolumeHasAnEmptyRootAndNoUsage() throws Exception {
        Attr root = meta.getattr(ROOT);
        assertEquals(ROOT, root.inode());
        assertEquals(FileType.DIRECTORY, root.type());
        assertEquals(2, root.nlink());
        assertEquals(List.of(), meta.readdir(ROOT, null, 100, true));
        StatFs s = meta.statfs();
        assertEquals(new StatFs(format.capacityBytes(), 0, format.inodeLimit(), 1), s);
        assertEquals(Set.of(), pending());
    }

    // ---- lookup and getattr ----

    @Test
    void dotAndDotDotResolve() throws Exception {
        long d = dir(ROOT, "d").inode();
        long e = dir(d, "e").inode();
        assertEquals(ROOT, ino(ROOT, "."));
        assertEquals(ROOT, ino(ROOT, ".."));
        assertEquals(d, ino(d, "."));
        assertEquals(ROOT, ino(d, ".."));
        assertEquals(d, ino(e, ".."));
        assertEquals(meta.getattr(d), meta.lookup(e, "..").attr());
    }

    @Test
    void lookupReturnsTheAttributesGetattrReturns() throws Exception {
        Entry created = file(ROOT, "f");
        Entry found = meta.lookup(ROOT, "f");
        assertEquals(ROOT, found.parent());
        assertEquals("f", found.name());
        assertEquals(created.attr(), found.attr());
        assertEquals(meta.getattr(created.inode()), found.attr());
    }

    @Test
    void lookupErrors() throws Exception {
        long f = file(ROOT, "f").inode();
        assertErrno(Errno.ENOENT, () -> meta.lookup(ROOT, "missing"));
        assertErrno(Errno.ENOTDIR, () -> meta.lookup(f, "x"));
        assertErrno(Errno.ENOENT, () -> meta.lookup(987_654_321L, "x"));
        assertErrno(Errno.ENOENT, () -> meta.getattr(987_654_321L));
    }

    // ---- mknod ----

    @ParameterizedTest
    @EnumSource(FileType.class)
    void mknodCreatesEveryType(FileType type) throws Exception {
        String target = type == FileType.SYMLINK ? "../target/é" : null;
        int rdev = type == FileType.CHAR_DEVICE || type == FileType.BLOCK_DEVICE ? (8 << 8) | 1 : 0;
        long parent = dir(ROOT, "p").inode();
        Entry e = meta.mknod(parent, "node", type, 04750, 1234, 5678, rdev, target);
        Attr a = e.attr();
        assertEquals(parent, e.parent());
        assertEquals("node", e.name());
        assertEquals(type, a.type());
        assertEquals(04750, a.mode());
        assertEquals(1234, a.uid());
        assertEquals(5678, a.gid());
        assertEquals(type == FileType.DIRECTORY ? 2 : 1, a.nlink());
        assertEquals(type == FileType.SYMLINK ? target.getBytes(StandardCharsets.UTF_8).length : 0, a.length());
        assertEquals(rdev, a.rdev());
        assertEquals(parent, a.parent());
        assertTrue(a.ctimeNs() > OLD && a.mtimeNs() > OLD && a.atimeNs() > OLD, a.toString());
        assertEquals(a, meta.getattr(a.inode()));
        assertEquals(a, other().lookup(parent, "node").attr());
        assertEquals(List.of(new DirEntry("node", a.inode(), type, null)), meta.readdir(parent, null, 10, false));
        assertNotEquals(ROOT, a.inode());
        assertNotEquals(parent, a.inode());
    }

    @Test
    void mkdirRaisesParentLinkCountAndTouchesParent() throws Exception {
        long p = dir(ROOT, "p").inode();
        assertEquals(3, nlink(ROOT));
        setOldTimes(p);
        dir(p, "a");
        dir(p, "b");
        file(p, "f");
        Attr pa = meta.getattr(p);
        assertEquals(4, pa.nlink());
        assertTrue(pa.mtimeNs() > OLD && pa.ctimeNs() > OLD, pa.toString());
    }

    @Test
    void symlinkAndReadlink() throws Exception {
        String target = "dir/ünïcode/../x";
        Entry l = meta.mknod(ROOT, "l", FileType.SYMLINK, 0777, UID, GID, 0, target);
        assertEquals(target, meta.readlink(l.inode()));
        assertEquals(target, other().readlink(l.inode()));
        assertEquals(target.getBytes(StandardCharsets.UTF_8).length, l.attr().length());
        long f = file(ROOT, "f").inode();
        assertErrno(Errno.EINVAL, () -> meta.readlink(f));
        assertErrno(Errno.ENOENT, () -> meta.readlink(987_654_321L));
    }

    @Test
    void mknodOnAnExistingNameFailsWithEexist() throws Exception {
        long f = file(ROOT, "f").inode();
        long d = dir(ROOT, "d").inode();
        assertErrno(Errno.EEXIST, () -> file(ROOT, "f"));
        assertErrno(Errno.EEXIST, () -> dir(ROOT, "f"));
        assertErrno(Errno.EEXIST, () -> file(ROOT, "d"));
        assertErrno(Errno.EEXIST, () -> meta.mknod(ROOT, "d", FileType.SYMLINK, 0777, UID, GID, 0, "x"));
        assertEquals(f, ino(ROOT, "f"));
        assertEquals(d, ino(ROOT, "d"));
        assertEquals(3, nlink(ROOT));
        assertEquals(3, meta.statfs().usedInodes());
    }

    @Test
    void createFileMakesARegularFileAsMknodDoesAndSyncKeepsIt() throws Exception {
        long parent = dir(ROOT, "p").inode();
        setOldTimes(parent);
        long usedBefore = meta.statfs().usedInodes();
        Entry e = meta.createFile(parent, "new", 0640, 1234, 5678);
        Attr a = e.attr();
        assertEquals("new", e.name());
        assertEquals(parent, e.parent());
        assertEquals(FileType.FILE, a.type());
        assertEquals(0640, a.mode());
        assertEquals(1234, a.uid());
        assertEquals(5678, a.gid());
        assertEquals(1, a.nlink());
        assertEquals(0, a.length());
        assertEquals(parent, a.parent());
        assertEquals(a, meta.getattr(a.inode()));
        Attr pa = meta.getattr(parent);
        assertTrue(pa.mtimeNs() > OLD && pa.ctimeNs() > OLD, "the directory is touched: " + pa);
        assertEquals(usedBefore + 1, meta.statfs().usedInodes());
        // Nothing owed but this creation, and then nothing at all: both syncs return, the file stays.
        meta.sync();
        meta.sync();
        assertEquals(a, other().lookup(parent, "new").attr());
        assertErrno(Errno.EEXIST, () -> meta.createFile(parent, "new", 0644, UID, GID));
        assertErrno(Errno.EEXIST, () -> meta.createFile(ROOT, "p", 0644, UID, GID));
        long f = a.inode();
        assertErrno(Errno.ENOTDIR, () -> meta.createFile(f, "x", 0644, UID, GID));
        assertErrno(Errno.ENOENT, () -> meta.createFile(987_654_321L, "x", 0644, UID, GID));
        assertErrno(Errno.EINVAL, () -> meta.createFile(parent, "a/b", 0644, UID, GID));
        assertEquals(usedBefore + 1, meta.statfs().usedInodes());
    }

    @Test
    void mknodBelowAFileOrAMissingDirectoryFails() throws Exception {
        long f = file(ROOT, "f").inode();
        assertErrno(Errno.ENOTDIR, () -> file(f, "x"));
        assertErrno(Errno.ENOTDIR, () -> dir(f, "x"));
        assertErrno(Errno.ENOENT, () -> file(987_654_321L, "x"));
    }

    @Test
    void namesLongerThan255BytesFailWithEnametoolong() throws Exception {
        String max = "a".repeat(255);
        String tooLong = "a".repeat(256);
        // 128 two-byte characters: short in chars, too long in UTF-8 bytes.
        String wide = "é".repeat(128);
        String wideMax = "é".repeat(127) + "a";
        long f = file(ROOT, max).inode();
        file(ROOT, wideMax);
        assertEquals(f, ino(ROOT, max));
        assertErrno(Errno.ENAMETOOLONG, () -> file(ROOT, tooLong));
        assertErrno(Errno.ENAMETOOLONG, () -> dir(ROOT, wide));
        assertErrno(Errno.ENAMETOOLONG, () -> meta.lookup(ROOT, tooLong));
        assertErrno(Errno.ENAMETOOLONG, () -> meta.rename(ROOT, max, ROOT, tooLong, 0));
        assertErrno(Errno.ENAMETOOLONG, () -> meta.link(f, ROOT, wide));
        assertErrno(Errno.ENAMETOOLONG, () -> meta.clone(f, ROOT, tooLong, UID, GID));
        assertEquals(Set.of(max, wideMax), new HashSet<>(names(ROOT)));
    }

    @Test
    void unicodeNamesRoundTrip() throws Exception {
        List<String> names = List.of("día", "日本語", "emoji-\uD83D\uDE00", "space name", "tab\tname", "UPPER");
        for (String n : names) {
            file(ROOT, n);
        }
        MetadataEngine o = other();
        for (String n : names) {
            assertEquals(ino(ROOT, n), o.lookup(ROOT, n).inode());
        }
        assertEquals(new HashSet<>(names), new HashSet<>(names(ROOT)));
    }

    // ---- unlink and rmdir ----

    @Test
    void unlinkRemovesTheNameAndTheInode() throws Exception {
        long p = dir(ROOT, "p").inode();
        long f = file(p, "f").inode();
        setOldTimes(p);
        meta.unlink(p, "f");
        assertErrno(Errno.ENOENT, () -> meta.lookup(p, "f"));
        assertErrno(Errno.ENOENT, () -> meta.getattr(f));
        assertErrno(Errno.ENOENT, () -> meta.unlink(p, "f"));
        assertTrue(meta.getattr(p).mtimeNs() > OLD);
        assertEquals(List.of(), names(p));
    }

    @Test
    void unlinkOfADirectoryFailsWithEisdir() throws Exception {
        long d = dir(ROOT, "d").inode();
        assertErrno(Errno.EISDIR, () -> meta.unlink(ROOT, "d"));
        assertEquals(d, ino(ROOT, "d"));
        long f = file(ROOT, "f").inode();
        assertErrno(Errno.ENOTDIR, () -> meta.unlink(f, "x"));
    }

    @Test
    void rmdirRemovesAnEmptyDirectory() throws Exception {
        long p = dir(ROOT, "p").inode();
        long d = dir(p, "d").inode();
        assertEquals(3, nlink(p));
        meta.rmdir(p, "d");
        assertEquals(2, nlink(p));
        assertErrno(Errno.ENOENT, () -> meta.getattr(d));
        assertErrno(Errno.ENOENT, () -> meta.rmdir(p, "d"));
    }

    @Test
    void rmdirErrors() throws Exception {
        long p = dir(ROOT, "p").inode();
        file(p, "f");
        dir(p, "sub");
        assertErrno(Errno.ENOTEMPTY, () -> meta.rmdir(ROOT, "p"));
        assertErrno(Errno.ENOTDIR, () -> meta.rmdir(p, "f"));
        assertErrno(Errno.ENOENT, () -> meta.rmdir(p, "missing"));
        meta.unlink(p, "f");
        assertErrno(Errno.ENOTEMPTY, () -> meta.rmdir(ROOT, "p"));
        meta.rmdir(p, "sub");
        meta.rmdir(ROOT, "p");
        assertEquals(2, nlink(ROOT));
    }

    @Test
    void rmdirOfTheRootFailsWithEbusy() throws Exception {
        assertErrno(Errno.EBUSY, () -> meta.rmdir(ROOT, "."));
        assertErrno(Errno.EBUSY, () -> meta.rmdir(ROOT, ".."));
        assertEquals(FileType.DIRECTORY, meta.getattr(ROOT).type());
    }

    // ---- rename ----

    @Test
    void renameWithinADirectory() throws Exception {
        long f = file(ROOT, "a").inode();
        setOldTimes(f);
        meta.rename(ROOT, "a", ROOT, "b", 0);
        assertErrno(Errno.ENOENT, () -> meta.lookup(ROOT, "a"));
        assertEquals(f, ino(ROOT, "b"));
        assertEquals(List.of("b"), names(ROOT));
        assertTrue(meta.getattr(f).ctimeNs() > OLD, "rename changes the inode's ctime");
        assertEquals(OLD, meta.getattr(f).mtimeNs());
    }

    @Test
    void renameAFileAcrossDirectories() throws Exception {
        long a = dir(ROOT, "a").inode();
        long b = dir(ROOT, "b").inode();
        long f = file(a, "f").inode();
        setOldTimes(a);
        setOldTimes(b);
        meta.rename(a, "f", b, "g", 0);
        assertEquals(f, ino(b, "g"));
        assertErrno(Errno.ENOENT, () -> meta.lookup(a, "f"));
        assertEquals(b, meta.getattr(f).parent());
        assertEquals(2, nlink(a));
        assertEquals(2, nlink(b));
        assertTrue(meta.getattr(a).mtimeNs() > OLD && meta.getattr(b).mtimeNs() > OLD);
    }

    @Test
    void renameADirectoryAcrossDirectoriesMovesItsLink() throws Exception {
        long a = dir(ROOT, "a").inode();
        long b = dir(ROOT, "b").inode();
        long d = dir(a, "d").inode();
        file(d, "inside");
        assertEquals(3, nlink(a));
        meta.rename(a, "d", b, "d2", 0);
        assertEquals(2, nlink(a));
        assertEquals(3, nlink(b));
        assertEquals(4, nlink(ROOT));
        assertEquals(b, ino(d, ".."));
        assertEquals(b, meta.getattr(d).parent());
        assertEquals(List.of("inside"), names(d));
    }

    @Test
    void renameReplacesAFileAndReleasesIt() throws Exception {
        long a = file(ROOT, "a").inode();
        long b = file(ROOT, "b").inode();
        Slice sa = write(a, 0, 0, 100);
        Slice sb = write(b, 0, 0, 200);
        long inodes = meta.statfs().usedInodes();
        meta.rename(ROOT, "a", ROOT, "b", 0);
        assertEquals(a, ino(ROOT, "b"));
        assertEquals(List.of("b"), names(ROOT));
        assertErrno(Errno.ENOENT, () -> meta.getattr(b));
        assertEquals(Set.of(ref(sb)), pending());
        assertEquals(List.of(sa), meta.readChunk(a, 0));
        assertEquals(inodes - 1, meta.statfs().usedInodes());
    }

    @Test
    void renameOverAHardLinkedFileDropsOneLink() throws Exception {
        long d = dir(ROOT, "d").inode();
        long a = file(ROOT, "a").inode();
        long b = file(ROOT, "b").inode();
        Slice sb = write(b, 0, 0, 10);
        meta.link(b, d, "b2");
        meta.rename(ROOT, "a", ROOT, "b", 0);
        assertEquals(a, ino(ROOT, "b"));
        Attr kept = meta.getattr(b);
        assertEquals(1, kept.nlink());
        assertEquals(d, kept.parent());
        assertEquals(Set.of(), pending());
        assertEquals(List.of(sb), meta.readChunk(b, 0));
    }

    @Test
    void renameADirectoryOverAnEmptyDirectory() throws Exception {
        long p = dir(ROOT, "p").inode();
        long q = dir(ROOT, "q").inode();
        long src = dir(p, "src").inode();
        long dst = dir(q, "dst").inode();
        file(src, "f");
        long inodes = meta.statfs().usedInodes();
        meta.rename(p, "src", q, "dst", 0);
        assertEquals(src, ino(q, "dst"));
        assertErrno(Errno.ENOENT, () -> meta.getattr(dst));
        assertEquals(2, nlink(p));
        assertEquals(3, nlink(q));
        assertEquals(q, ino(src, ".."));
        assertEquals(inodes - 1, meta.statfs().usedInodes());
    }

    @Test
    void renameOverANonEmptyDirectoryFailsWithEnotempty() throws Exception {
        dir(ROOT, "src");
        long dst = dir(ROOT, "dst").inode();
        file(dst, "f");
        TreeSnapshot before = snapshot();
        assertErrno(Errno.ENOTEMPTY, () -> meta.rename(ROOT, "src", ROOT, "dst", 0));
        assertEquals(before, snapshot());
    }

    @Test
    void renameBetweenFileAndDirectoryChecksTypes() throws Exception {
        file(ROOT, "f");
        dir(ROOT, "d");
        TreeSnapshot before = snapshot();
        assertErrno(Errno.EISDIR, () -> meta.rename(ROOT, "f", ROOT, "d", 0));
        assertErrno(Errno.ENOTDIR, () -> meta.rename(ROOT, "d", ROOT, "f", 0));
        assertEquals(before, snapshot());
    }

    @Test
    void renameOntoItselfIsANoOp() throws Exception {
        long f = file(ROOT, "f").inode();
        meta.link(f, ROOT, "g");
        TreeSnapshot before = snapshot();
        meta.rename(ROOT, "f", ROOT, "f", 0);
        // Two names of one inode: rename(2) succeeds and leaves both.
        meta.rename(ROOT, "f", ROOT, "g", 0);
        assertEquals(List.of("f", "g"), names(ROOT));
        assertEquals(2, nlink(f));
        assertEquals(before.nodes().keySet(), snapshot().nodes().keySet());
    }

    @Test
    void renameErrors() throws Exception {
        long f = file(ROOT, "f").inode();
        assertErrno(Errno.ENOENT, () -> meta.rename(ROOT, "missing", ROOT, "x", 0));
        assertErrno(Errno.ENOTDIR, () -> meta.rename(f, "x", ROOT, "y", 0));
        assertErrno(Errno.ENOTDIR, () -> meta.rename(ROOT, "f", f, "y", 0));
        assertErrno(Errno.ENOENT, () -> meta.rename(ROOT, "f", 987_654_321L, "y", 0));
        assertEquals(List.of("f"), names(ROOT));
    }

    @Test
    void renameADirectoryIntoItsOwnSubtreeFailsWithEinval() throws Exception {
        long a = dir(ROOT, "a").inode();
        long b = dir(a, "b").inode();
        long c = dir(b, "c").inode();
        TreeSnapshot before = snapshot();
        assertErrno(Errno.EINVAL, () -> meta.rename(ROOT, "a", a, "x", 0));
        assertErrno(Errno.EINVAL, () -> meta.rename(ROOT, "a", c, "x", 0));
        assertErrno(Errno.EINVAL, () -> meta.rename(a, "b", c, "x", 0));
        assertErrno(Errno.EINVAL, () -> meta.rename(ROOT, "a", b, "c", RenameFlags.EXCHANGE));
        assertEquals(before, snapshot());
    }

    @Test
    void renameNoreplace() throws Exception {
        long a = file(ROOT, "a").inode();
        long b = file(ROOT, "b").inode();
        assertErrno(Errno.EEXIST, () -> meta.rename(ROOT, "a", ROOT, "b", RenameFlags.NOREPLACE));
        assertEquals(a, ino(ROOT, "a"));
        assertEquals(b, ino(ROOT, "b"));
        meta.rename(ROOT, "a", ROOT, "c", RenameFlags.NOREPLACE);
        assertEquals(a, ino(ROOT, "c"));
        assertEquals(List.of("b", "c"), names(ROOT));
    }

    @Test
    void renameExchangeSwapsTwoFiles() throws Exception {
        long a = file(ROOT, "a").inode();
        long b = file(ROOT, "b").inode();
        meta.rename(ROOT, "a", ROOT, "b", RenameFlags.EXCHANGE);
        assertEquals(b, ino(ROOT, "a"));
        assertEquals(a, ino(ROOT, "b"));
        assertEquals(1, nlink(a));
        assertEquals(1, nlink(b));
        assertEquals(3, meta.statfs().usedInodes());
    }

    @Test
    void renameExchangeOfAFileAndADirectoryAcrossParentsFixesLinkCounts() throws Exception {
        long p = dir(ROOT, "p").inode();
        long q = dir(ROOT, "q").inode();
        long d = dir(p, "d").inode();
        long f = file(q, "f").inode();
        file(d, "inside");
        assertEquals(3, nlink(p));
        assertEquals(2, nlink(q));
        meta.rename(p, "d", q, "f", RenameFlags.EXCHANGE);
        assertEquals(f, ino(p, "d"));
        assertEquals(d, ino(q, "f"));
        assertEquals(FileType.FILE, meta.lookup(p, "d").attr().type());
        assertEquals(2, nlink(p));
        assertEquals(3, nlink(q));
        assertEquals(q, ino(d, ".."));
        assertEquals(q, meta.getattr(d).parent());
        assertEquals(p, meta.getattr(f).parent());
        assertEquals(List.of("inside"), names(d));
        assertEquals(List.of(new DirEntry("f", d, FileType.DIRECTORY, null)), meta.readdir(q, null, 10, false));
    }

    @Test
    void renameExchangeOfTwoDirectoriesAcrossParents() throws Exception {
        long p = dir(ROOT, "p").inode();
        long q = dir(ROOT, "q").inode();
        long a = dir(p, "a").inode();
        long b = dir(q, "b").inode();
        meta.rename(p, "a", q, "b", RenameFlags.EXCHANGE);
        assertEquals(b, ino(p, "a"));
        assertEquals(a, ino(q, "b"));
        assertEquals(3, nlink(p));
        assertEquals(3, nlink(q));
        assertEquals(q, ino(a, ".."));
        assertEquals(p, ino(b, ".."));
    }

    @Test
    void renameExchangeNeedsBothNames() throws Exception {
        file(ROOT, "a");
        TreeSnapshot before = snapshot();
        assertErrno(Errno.ENOENT, () -> meta.rename(ROOT, "a", ROOT, "missing", RenameFlags.EXCHANGE));
        assertErrno(Errno.ENOENT, () -> meta.rename(ROOT, "missing", ROOT, "a", RenameFlags.EXCHANGE));
        assertEquals(before, snapshot());
    }

    @Test
    void renameOverAFileThatIsOpenKeepsItUntilReleased() throws Exception {
        long a = file(ROOT, "a").inode();
        long b = file(ROOT, "b").inode();
        Slice sb = write(b, 0, 0, 10);
        long s = meta.openSession("tck");
        meta.open(s, b);
        meta.rename(ROOT, "a", ROOT, "b", 0);
        assertEquals(a, ino(ROOT, "b"));
        assertEquals(0, nlink(b));
        assertEquals(List.of(sb), meta.readChunk(b, 0));
        assertEquals(Set.of(), pending());
        meta.release(s, b);
        assertErrno(Errno.ENOENT, () -> meta.getattr(b));
        assertEquals(Set.of(ref(sb)), pending());
    }

    // ---- hard links ----

    @Test
    void hardLinksShareTheInodeAcrossDirectories() throws Exception {
        long a = dir(ROOT, "a").inode();
        long b = dir(ROOT, "b").inode();
        long f = file(a, "f").inode();
        Slice s = write(f, 0, 0, 4096);
        setOldTimes(f);
        Entry l = meta.link(f, b, "g");
        assertEquals(b, l.parent());
        assertEquals("g", l.name());
        assertEquals(f, l.inode());
        assertEquals(2, l.attr().nlink());
        assertTrue(l.attr().ctimeNs() > OLD, "link changes ctime");
        assertEquals(l.attr(), meta.getattr(f));
        assertEquals(f, ino(b, "g"));
        assertEquals(2, nlink(a));
        assertEquals(2, nlink(b));
        assertEquals(List.of(s), meta.readChunk(ino(b, "g"), 0));
        assertEquals(4, meta.statfs().usedInodes());

        meta.unlink(a, "f");
        Attr left = meta.getattr(f);
        assertEquals(1, left.nlink());
        assertEquals(b, left.parent());
        assertEquals(List.of(s), meta.readChunk(f, 0));
        assertEquals(Set.of(), pending());

        meta.unlink(b, "g");
        assertErrno(Errno.ENOENT, () -> meta.getattr(f));
        assertEquals(Set.of(ref(s)), pending());
    }

    @Test
    void hardLinkErrors() throws Exception {
        long d = dir(ROOT, "d").inode();
        long f = file(ROOT, "f").inode();
        assertErrno(Errno.EPERM, () -> meta.link(d, ROOT, "d2"));
        assertErrno(Errno.EEXIST, () -> meta.link(f, ROOT, "d"));
        assertErrno(Errno.ENOTDIR, () -> meta.link(f, f, "x"));
        assertErrno(Errno.ENOENT, () -> meta.link(987_654_321L, ROOT, "x"));
        assertEquals(1, nlink(f));
        assertEquals(3, nlink(ROOT));
        assertEquals(List.of("d", "f"), names(ROOT));
    }

    // ---- readdir ----

    @Test
    void readdirListsInNameOrderWithoutDots() throws Exception {
        long d = dir(ROOT, "d").inode();
        List<String> names = new ArrayList<>(List.of("b", "a", "B", "a.b", "a b", "é", "中", "z", "0"));
        Collections.shuffle(names, new Random(7));
        for (String n : names) {
            if (n.equals("B")) {
                dir(d, n);
            } else {
                file(d, n);
            }
        }
        List<String> expected = new ArrayList<>(names);
        expected.sort(TreeSnapshot::compareBytes);
        List<DirEntry> listed = meta.readdir(d, null, 100, false);
        assertEquals(expected, listed.stream().map(DirEntry::name).collect(Collectors.toList()));
        for (DirEntry e : listed) {
            assertEquals(ino(d, e.name()), e.inode());
            assertEquals(e.name().equals("B") ? FileType.DIRECTORY : FileType.FILE, e.type());
        }
    }

    @Test
    void readdirPagesWithAnAfterCursor() throws Exception {
        long d = dir(ROOT, "d").inode();
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(3));
        for (int i : order) {
            file(d, String.format("n%02d", i));
        }
        assertEquals(List.of("n00", "n01", "n02"), names(meta.readdir(d, null, 3, false)));
        assertEquals(List.of("n10", "n11", "n12"), names(meta.readdir(d, "n09", 3, false)));
        // The cursor need not name an entry: it is a position in name order.
        assertEquals(List.of("n10", "n11"), names(meta.readdir(d, "n095", 2, false)));
        assertEquals(List.of("n24"), names(meta.readdir(d, "n23", 10, false)));
        assertEquals(List.of(), meta.readdir(d, "n24", 10, false));
        assertEquals(List.of(), meta.readdir(d, "zzz", 10, false));
        assertEquals(25, meta.readdir(d, null, 1000, false).size());
    }

    private static List<String> names(List<DirEntry> page) {
        return page.stream().map(DirEntry::name).collect(Collectors.toList());
    }

    @Test
    void readdirWithAttributesMatchesGetattr() throws Exception {
        long d = dir(ROOT, "d").inode();
        long f = file(d, "f").inode();
        write(f, 0, 0, 12345);
        dir(d, "sub");
        meta.mknod(d, "l", FileType.SYMLINK, 0777, UID, GID, 0, "target");
        List<DirEntry> list = meta.readdir(d, null, 10, true);
        assertEquals(3, list.size());
        for (DirEntry e : list) {
            assertEquals(meta.getattr(e.inode()), e.attr(), e.name());
            assertEquals(e.attr().type(), e.type());
        }
        for (DirEntry e : meta.readdir(d, null, 10, false)) {
            assertTrue(e.attr() == null || e.attr().equals(meta.getattr(e.inode())));
        }
    }

    @Test
    void readdirErrors() throws Exception {
        long f = file(ROOT, "f").inode();
        assertErrno(Errno.ENOTDIR, () -> meta.readdir(f, null, 10, false));
        assertErrno(Errno.ENOENT, () -> meta.readdir(987_654_321L, null, 10, false));
    }

    @Test
    void readdirCursorSurvivesConcurrentChanges() throws Exception {
        long d = dir(ROOT, "big").inode();
        Set<String> stable = new TreeSet<>();
        for (int i = 0; i < 1000; i++) {
            String n = String.format("n%04d-s", i);
            file(d, n);
            stable.add(n);
        }
        MetadataEngine churner = other();
        AtomicBoolean done = new AtomicBoolean();
        CountDownLatch churning = new CountDownLatch(1);
        // Another client keeps adding and removing names all over the listing while it is paged through.
        Future<Integer> churn = pool(1).submit(() -> {
            Random r = new Random(11);
            List<String> live = new ArrayList<>();
            int ops = 0;
            while ((!done.get() || ops < 20) && ops < 20_000) {
                if (ops == 20) {
                    churning.countDown();
                }
                if (live.size() < 50 && (live.isEmpty() || r.nextBoolean())) {
                    String n = String.format("n%04d-c%d", r.nextInt(1000), ops);
                    churner.mknod(d, n, FileType.FILE, 0644, UID, GID, 0, null);
                    live.add(n);
                } else {
                    churner.unlink(d, live.remove(r.nextInt(live.size())));
                }
                ops++;
            }
            return ops;
        });
        // Page only once the churn is under way, so the listing really runs against a changing directory.
        assertTrue(churning.await(60, TimeUnit.SECONDS), "the churning client did not get going");
        List<String> seen = new ArrayList<>();
        String after = null;
        try {
            while (true) {
                List<DirEntry> page = meta.readdir(d, after, 100, false);
                if (page.isEmpty()) {
                    break;
                }
                assertTrue(page.size() <= 100);
                for (DirEntry e : page) {
                    seen.add(e.name());
                }
                String last = page.get(page.size() - 1).name();
                assertTrue(after == null || TreeSnapshot.compareBytes(last, after) > 0, "the cursor must move");
                after = last;
            }
        } finally {
            done.set(true);
        }
        assertTrue(churn.get(60, TimeUnit.SECONDS) > 0);
        assertEquals(seen.size(), new HashSet<>(seen).size(), "no entry may be listed twice");
        List<String> sorted = new ArrayList<>(seen);
        Collections.sort(sorted);
        assertEquals(sorted, seen, "pages come in name order");
        assertTrue(seen.containsAll(stable), "entries present the whole time are never missed");
    }

    // ---- extended attributes ----

    @Test
    void xattrsSetGetListRemove() throws Exception {
        long f = file(ROOT, "f").inode();
        byte[] binary = new byte[256];
        for (int i = 0; i < binary.length; i++) {
            binary[i] = (byte) i;
        }
        setOldTimes(f);
        meta.setxattr(f, "user.a", new byte[] {1, 2, 3}, 0);
        assertTrue(meta.getattr(f).ctimeNs() > OLD, "setxattr changes ctime");
        meta.setxattr(f, "user.bin", binary, 0);
        meta.setxattr(f, "user.empty", new byte[0], XattrFlags.CREATE);
        assertArrayEquals(new byte[] {1, 2, 3}, meta.getxattr(f, "user.a"));
        assertArrayEquals(binary, other().getxattr(f, "user.bin"));
        assertArrayEquals(new byte[0], meta.getxattr(f, "user.empty"));
        assertEquals(Set.of("user.a", "user.bin", "user.empty"), new HashSet<>(meta.listxattr(f)));
        meta.setxattr(f, "user.a", new byte[] {9}, 0);
        assertArrayEquals(new byte[] {9}, meta.getxattr(f, "user.a"));
        meta.removexattr(f, "user.a");
        assertErrno(Errno.ENODATA, () -> meta.getxattr(f, "user.a"));
        assertEquals(Set.of("user.bin", "user.empty"), new HashSet<>(meta.listxattr(f)));
        long d = dir(ROOT, "d").inode();
        meta.setxattr(d, "user.dir", new byte[] {7}, 0);
        assertArrayEquals(new byte[] {7}, meta.getxattr(d, "user.dir"));
        assertEquals(List.of(), meta.listxattr(ROOT));
    }

    @Test
    void xattrChangesCanKeepCtime() throws Exception {
        long f = file(ROOT, "f").inode();
        setOldTimes(f);
        Attr before = meta.getattr(f);
        meta.setxattr(f, "hangar.mark", new byte[] {1}, XattrFlags.KEEP_CTIME);
        meta.setxattr(f, "hangar.mark", new byte[] {2}, XattrFlags.REPLACE | XattrFlags.KEEP_CTIME);
        assertErrno(Errno.EEXIST, () -> meta.setxattr(f, "hangar.mark", new byte[] {3},
                XattrFlags.CREATE | XattrFlags.KEEP_CTIME));
        assertErrno(Errno.EINVAL, () -> meta.setxattr(f, "hangar.mark", new byte[] {3},
                XattrFlags.CREATE | XattrFlags.REPLACE | XattrFlags.KEEP_CTIME));
        assertErrno(Errno.EINVAL, () -> meta.setxattr(f, "hangar.mark", new byte[] {3}, 4 | XattrFlags.KEEP_CTIME));
        Attr after = other().getattr(f);
        assertEquals(before.ctimeNs(), after.ctimeNs(), "KEEP_CTIME leaves ctime alone");
        assertEquals(before.mtimeNs(), after.mtimeNs());
        assertArrayEquals(new byte[] {2}, other().getxattr(f, "hangar.mark"));
        meta.setxattr(f, "hangar.mark", new byte[] {4}, 0);
        assertTrue(other().getattr(f).ctimeNs() > before.ctimeNs(), "without the flag ctime changes");
    }

    @Test
    void xattrFlagsAndErrors() throws Exception {
        long f = file(ROOT, "f").inode();
        meta.setxattr(f, "user.a", new byte[] {1}, XattrFlags.CREATE);
        assertErrno(Errno.EEXIST, () -> meta.setxattr(f, "user.a", new byte[] {2}, XattrFlags.CREATE));
        assertArrayEquals(new byte[] {1}, meta.getxattr(f, "user.a"));
        assertErrno(Errno.ENODATA, () -> meta.setxattr(f, "user.b", new byte[] {2}, XattrFlags.REPLACE));
        assertErrno(Errno.ENODATA, () -> meta.getxattr(f, "user.b"));
        meta.setxattr(f, "user.a", new byte[] {3}, XattrFlags.REPLACE);
        assertArrayEquals(new byte[] {3}, meta.getxattr(f, "user.a"));
        assertErrno(Errno.ENODATA, () -> meta.getxattr(f, "user.missing"));
        assertErrno(Errno.ENODATA, () -> meta.removexattr(f, "user.missing"));
        assertEquals(List.of("user.a"), meta.listxattr(f));
        long gone = 987_654_321L;
        assertErrno(Errno.ENOENT, () -> meta.getxattr(gone, "user.a"));
        assertErrno(Errno.ENOENT, () -> meta.setxattr(gone, "user.a", new byte[] {1}, 0));
        assertErrno(Errno.ENOENT, () -> meta.listxattr(gone));
        assertErrno(Errno.ENOENT, () -> meta.removexattr(gone, "user.a"));
    }

    @Test
    void xattrsGoAwayWithTheirInode() throws Exception {
        long f = file(ROOT, "f").inode();
        meta.setxattr(f, "user.a", new byte[] {1}, 0);
        meta.unlink(ROOT, "f");
        long g = file(ROOT, "f").inode();
        assertEquals(List.of(), meta.listxattr(g));
    }

    // ---- setattr ----

    @Test
    void setattrChangesModeOwnerAndTimes() throws Exception {
        long f = file(ROOT, "f").inode();
        Attr a = meta.setattr(f, new SetAttr(0600, 5, 6, null, 1_000L, 2_000L, 3_000L));
        assertEquals(0600, a.mode());
        assertEquals(5, a.uid());
        assertEquals(6, a.gid());
        assertEquals(1_000L, a.atimeNs());
        assertEquals(2_000L, a.mtimeNs());
        assertEquals(3_000L, a.ctimeNs());
        assertEquals(a, meta.getattr(f));
        assertEquals(a, other().getattr(f));

        Attr b = meta.setattr(f, SetAttr.mode(02750));
        assertEquals(02750, b.mode());
        assertEquals(5, b.uid());
        assertEquals(1_000L, b.atimeNs());
        assertEquals(2_000L, b.mtimeNs());
        assertTrue(b.ctimeNs() > 3_000L, "every setattr updates ctime");

        Attr c = meta.setattr(f, SetAttr.owner(null, 77));
        assertEquals(5, c.uid());
        assertEquals(77, c.gid());

        Attr d = meta.setattr(f, SetAttr.times(SetAttr.NOW, SetAttr.NOW));
        assertTrue(d.atimeNs() > 1_000L && d.mtimeNs() > 2_000L, d.toString());
        assertEquals(d, meta.getattr(f));
        assertEquals(FileType.FILE, d.type());
        assertEquals(1, d.nlink());
    }

    @Test
    void setattrErrors() throws Exception {
        long f = file(ROOT, "f").inode();
        assertErrno(Errno.EINVAL, () -> meta.setattr(f, SetAttr.size(0)));
        assertErrno(Errno.ENOENT, () -> meta.setattr(987_654_321L, SetAttr.mode(0600)));
    }

    // ---- usage ----

    @Test
    void usedInodesFollowCreationAndRemoval() throws Exception {
        long base = meta.statfs().usedInodes();
        long d = dir(ROOT, "d").inode();
        file(d, "f");
        meta.mknod(d, "l", FileType.SYMLINK, 0777, UID, GID, 0, "x");
        meta.mknod(d, "p", FileType.FIFO, 0644, UID, GID, 0, null);
        assertEquals(base + 4, meta.statfs().usedInodes());
        assertEquals(base + 4, other().statfs().usedInodes());
        meta.unlink(d, "f");
        meta.unlink(d, "l");
        assertEquals(base + 2, meta.statfs().usedInodes());
        meta.unlink(d, "p");
        meta.rmdir(ROOT, "d");
        assertEquals(base, meta.statfs().usedInodes());
    }

    @Test
    void usedBytesFollowFileLength() throws Exception {
        long base = meta.statfs().usedBytes();
        long f = file(ROOT, "f").inode();
        write(f, 0, 0, 10_000);
        long at10k = meta.statfs().usedBytes();
        assertTrue(at10k - base >= 10_000 && at10k - base <= 12_288 + 4096, "usage of 10000 bytes: " + (at10k - base));
        write(f, 0, 50_000, 50_000);
        assertEquals(at10k + (102_400 - 12_288), meta.statfs().usedBytes());
        meta.truncate(f, 5_000);
        assertEquals(at10k + (8_192 - 12_288), meta.statfs().usedBytes());
        meta.truncate(f, 10_000);
        assertEquals(at10k, meta.statfs().usedBytes());
        meta.unlink(ROOT, "f");
        assertEquals(base, meta.statfs().usedBytes());
    }

    @Test
    void statfsReportsTheConfiguredLimits() throws Exception {
        StatFs s = other().statfs();
        assertEquals(format.capacityBytes(), s.capacityBytes());
        assertEquals(format.inodeLimit(), s.inodeLimit());
    }

    // ---- slices ----

    @Test
    void newSliceIdsAreConsecutiveAndNeverReused() throws Exception {
        long a = meta.newSliceIds(10);
        long b = meta.newSliceIds(1);
        long c = other().newSliceIds(5);
        assertTrue(a > 0, "slice id 0 is the hole");
        assertTrue(b >= a + 10, a + " then " + b);
        assertTrue(c > b, b + " then " + c);
    }

    @Test
    void newSliceIdsAreUniqueAcrossThreadsAndClients() throws Exception {
        MetadataEngine o = other();
        ExecutorService p = pool(8);
        List<Future<List<Long>>> futures = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            MetadataEngine m = t % 2 == 0 ? meta : o;
            futures.add(p.submit(() -> {
                List<Long> firsts = new ArrayList<>();
                for (int i = 0; i < 50; i++) {
                    firsts.add(m.newSliceIds(3));
                }
                return firsts;
            }));
        }
        Set<Long> ids = new HashSet<>();
        for (List<Long> firsts : all(futures)) {
            for (int i = 0; i < firsts.size(); i++) {
                if (i > 0) {
                    assertTrue(firsts.get(i) > firsts.get(i - 1), "monotonic within a thread");
                }
                for (int k = 0; k < 3; k++) {
                    assertTrue(ids.add(firsts.get(i) + k), "slice id handed out twice: " + (firsts.get(i) + k));
                }
            }
        }
        assertEquals(8 * 50 * 3, ids.size());
    }

    @Test
    void writeSliceExtendsTheFileAndSetsItsTimes() throws Exception {
        long f = file(ROOT, "f").inode();
        int cs = format.chunkSize();
        long id = meta.newSliceIds(1);
        meta.writeSlice(f, 2, new Slice(id, 5000, 1000, 3000, 200), 42_000_000_000L);
        Attr a = meta.getattr(f);
        assertEquals(2L * cs + 3200, a.length());
        assertEquals(42_000_000_000L, a.mtimeNs());
        assertEquals(42_000_000_000L, a.ctimeNs());
        assertEquals(List.of(new Slice(id, 5000, 1000, 3000, 200)), meta.readChunk(f, 2));
        assertEquals(List.of(), meta.readChunk(f, 0));
        write(f, 0, 0, 10);
        assertEquals(2L * cs + 3200, meta.getattr(f).length(), "a write inside the file does not shrink it");
    }

    @Test
    void readChunkReturnsRecordsInWriteOrder() throws Exception {
        long f = file(ROOT, "f").inode();
        List<Slice> written = new ArrayList<>();
        written.add(write(f, 0, 1000, 100));
        written.add(write(f, 0, 0, 5000));
        written.add(write(f, 0, 500, 10));
        written.add(write(f, 0, 0, 1));
        assertEquals(written, meta.readChunk(f, 0));
        assertEquals(written, other().readChunk(f, 0));
    }

    @Test
    void writeSliceErrors() throws Exception {
        long d = dir(ROOT, "d").inode();
        Slice s = new Slice(meta.newSliceIds(1), 10, 0, 10, 0);
        assertErrno(Errno.EISDIR, () -> meta.writeSlice(d, 0, s, 1L));
        assertErrno(Errno.ENOENT, () -> meta.writeSlice(987_654_321L, 0, s, 1L));
        assertEquals(List.of(), meta.readChunk(d, 0));
    }

    @Test
    void truncateDownDropsChunksAndLaterGrowthReadsZeros() throws Exception {
        long f = file(ROOT, "f").inode();
        int cs = format.chunkSize();
        Slice a = write(f, 0, 0, 1000);
        Slice b = write(f, 1, 0, 8192);
        Slice c = write(f, 2, 0, 5000);
        assertEquals(2L * cs + 5000, meta.getattr(f).length());

        Attr t = meta.truncate(f, cs + 100L);
        assertEquals(cs + 100L, t.length());
        assertEquals(t, meta.getattr(f));
        assertEquals(List.of(), meta.readChunk(f, 2));
        assertEquals(Set.of(ref(c)), pending());
        assertEquals(a.id(), visibleAt(meta.readChunk(f, 0), 999));
        assertEquals(b.id(), visibleAt(meta.readChunk(f, 1), 99));

        // Growing again, by a write past the end or by truncate, shows zeros where the cut data was.
        Slice d = write(f, 1, 4000, 10);
        List<Slice> chunk1 = meta.readChunk(f, 1);
        assertEquals(b.id(), visibleAt(chunk1, 99));
        assertEquals(0, visibleAt(chunk1, 100));
        assertEquals(0, visibleAt(chunk1, 3999));
        assertEquals(d.id(), visibleAt(chunk1, 4005));
        assertEquals(0, visibleAt(chunk1, 5000));
        meta.truncate(f, 3L * cs);
        assertEquals(3L * cs, meta.getattr(f).length());
        chunk1 = meta.readChunk(f, 1);
        assertEquals(0, visibleAt(chunk1, 8000));
        assertEquals(List.of(), meta.readChunk(f, 2));
        assertEquals(Set.of(ref(c)), pending(), "slices still visible below the cut keep their reference");
    }

    @Test
    void truncateUpKeepsDataAndAddsZeros() throws Exception {
        long f = file(ROOT, "f").inode();
        Slice a = write(f, 0, 0, 1000);
        Attr t = meta.truncate(f, 5000);
        assertEquals(5000, t.length());
        List<Slice> recs = meta.readChunk(f, 0);
        assertEquals(a.id(), visibleAt(recs, 999));
        assertEquals(0, visibleAt(recs, 1000));
        assertEquals(0, visibleAt(recs, 4999));
        assertEquals(Set.of(), pending());
    }

    @Test
    void truncateToZeroReleasesEverySlice() throws Exception {
        long f = file(ROOT, "f").inode();
        Slice a = write(f, 0, 0, 1000);
        Slice b = write(f, 0, 500, 1000);
        Slice c = write(f, 3, 0, 1000);
        setOldTimes(f);
        Attr t = meta.truncate(f, 0);
        assertEquals(0, t.length());
        assertTrue(t.mtimeNs() > OLD && t.ctimeNs() > OLD, "truncate changes mtime and ctime");
        assertEquals(List.of(), meta.readChunk(f, 0));
        assertEquals(List.of(), meta.readChunk(f, 3));
        assertEquals(Set.of(ref(a), ref(b), ref(c)), pending());
        Slice d = write(f, 0, 0, 10);
        assertEquals(List.of(d), meta.readChunk(f, 0));
        assertEquals(10, meta.getattr(f).length());
    }

    @Test
    void truncateErrors() throws Exception {
        long d = dir(ROOT, "d").inode();
        long f = file(ROOT, "f").inode();
        assertErrno(Errno.EISDIR, () -> meta.truncate(d, 0));
        assertErrno(Errno.EINVAL, () -> meta.truncate(f, -1));
        assertErrno(Errno.ENOENT, () -> meta.truncate(987_654_321L, 0));
    }

    // ---- compaction ----

    @Test
    void compactChunkReplacesThePrefixAndKeepsLaterRecords() throws Exception {
        long f = file(ROOT, "f").inode();
        Slice a = write(f, 0, 0, 1000);
        Slice b = write(f, 0, 500, 1000);
        List<Slice> expected = meta.readChunk(f, 0);
        // Appended after the compactor read the chunk: must survive on top of the replacement.
        Slice c = write(f, 0, 100, 10);
        Slice merged = new Slice(meta.newSliceIds(1), 1500, 0, 1500, 0);
        assertTrue(meta.compactChunk(f, 0, expected, List.of(merged)));
        assertEquals(List.of(merged, c), meta.readChunk(f, 0));
        assertEquals(List.of(merged, c), other().readChunk(f, 0));
        assertEquals(Set.of(ref(a), ref(b)), pending());
        meta.unlink(ROOT, "f");
        assertEquals(Set.of(ref(a), ref(b), ref(merged), ref(c)), pending());
    }

    @Test
    void compactChunkOfAChangedChunkChangesNothing() throws Exception {
        long f = file(ROOT, "f").inode();
        Slice a = write(f, 0, 0, 1000);
        Slice b = write(f, 0, 500, 1000);
        List<Slice> stale = List.of(a, new Slice(b.id(), b.size(), 0, b.len(), b.pos() + 1));
        Slice merged = new Slice(meta.newSliceIds(1), 1500, 0, 1500, 0);
        assertFalse(meta.compactChunk(f, 0, stale, List.of(merged)));
        assertFalse(meta.compactChunk(f, 0, List.of(b, a), List.of(merged)));
        assertFalse(meta.compactChunk(f, 0, List.of(a, b, a), List.of(merged)));
        assertEquals(List.of(a, b), meta.readChunk(f, 0));
        assertEquals(Set.of(), pending());
        // The rejected replacement took no reference: dropping the file frees exactly what it wrote.
        meta.unlink(ROOT, "f");
        assertEquals(Set.of(ref(a), ref(b)), pending());
    }

    @Test
    void compactChunkDropsHolesAndCanEmptyTheChunk() throws Exception {
        long f = file(ROOT, "f").inode();
        Slice a = write(f, 0, 0, 1000);
        meta.truncate(f, 5);
        List<Slice> recs = meta.readChunk(f, 0);
        assertEquals(a, recs.get(0));
        Slice kept = new Slice(meta.newSliceIds(1), 5, 0, 5, 0);
        assertTrue(meta.compactChunk(f, 0, recs, List.of(kept)));
        assertEquals(List.of(kept), meta.readChunk(f, 0));
        assertEquals(Set.of(ref(a)), pending());
        assertTrue(meta.compactChunk(f, 0, List.of(kept), List.of()));
        assertEquals(List.of(), meta.readChunk(f, 0));
        assertEquals(Set.of(ref(a), ref(kept)), pending());
        assertEquals(5, meta.getattr(f).length(), "compaction never changes the length");
    }

    // ---- slice references ----

    @Test
    void unlinkQueuesSlicesAndConfirmForgetsThem() throws Exception {
        long f = file(ROOT, "f").inode();
        int cs = format.chunkSize();
        Set<SliceRef> refs = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            refs.add(ref(write(f, i % 2, i * 100, 100)));
        }
        refs.add(ref(write(f, 7, cs - 100, 100)));
        assertEquals(Set.of(), pending());
        meta.unlink(ROOT, "f");
        assertEquals(refs, pending());
        assertEquals(refs, new HashSet<>(other().pendingSliceDeletes(100)));
        List<SliceRef> two = meta.pendingSliceDeletes(2);
        assertEquals(2, two.size());
        assertTrue(refs.containsAll(two));
        meta.confirmSliceDeletes(two);
        Set<SliceRef> rest = new HashSet<>(refs);
        rest.removeAll(two);
        assertEquals(rest, pending());
        meta.confirmSliceDeletes(List.copyOf(rest));
        assertEquals(Set.of(), pending());
        meta.confirmSliceDeletes(List.copyOf(rest));
        assertEquals(List.of(), meta.pendingSliceDeletes(10));
    }

    // ---- clone ----

    @Test
    void cloneOfAFileSharesItsSlices() throws Exception {
        long base = meta.statfs().usedBytes();
        long f = file(ROOT, "f").inode();
        Slice a = write(f, 0, 0, 5000);
        Slice b = write(f, 1, 0, 100);
        meta.truncate(f, format.chunkSize() + 50L);
        meta.setxattr(f, "user.k", new byte[] {4, 2}, 0);
        meta.setattr(f, new SetAttr(0640, null, null, null, OLD, OLD, null));
        long usedBefore = meta.statfs().usedBytes();
        long inodesBefore = meta.statfs().usedInodes();

        Entry c = meta.clone(f, ROOT, "copy", 7, 8);
        assertEquals("copy", c.name());
        assertEquals(ROOT, c.parent());
        assertNotEquals(f, c.inode());
        assertEquals(c.attr(), meta.getattr(c.inode()));
        assertEquals(c.inode(), ino(ROOT, "copy"));
        Attr src = meta.getattr(f);
        assertEquals(FileType.FILE, c.attr().type());
        assertEquals(src.length(), c.attr().length());
        assertEquals(0640, c.attr().mode());
        assertEquals(OLD, c.attr().mtimeNs());
        assertEquals(7, c.attr().uid());
        assertEquals(8, c.attr().gid());
        assertEquals(1, c.attr().nlink());
        assertEquals(meta.readChunk(f, 0), meta.readChunk(c.inode(), 0));
        assertEquals(meta.readChunk(f, 1), meta.readChunk(c.inode(), 1));
        assertArrayEquals(new byte[] {4, 2}, meta.getxattr(c.inode(), "user.k"));
        assertEquals(inodesBefore + 1, meta.statfs().usedInodes());
        assertEquals(usedBefore + (usedBefore - base), meta.statfs().usedBytes());

        // The copy is independent of its source...
        meta.setxattr(c.inode(), "user.k", new byte[] {1}, 0);
        write(c.inode(), 0, 0, 10);
        assertArrayEquals(new byte[] {4, 2}, meta.getxattr(f, "user.k"));
        assertEquals(List.of(a), meta.readChunk(f, 0));
        // ...and its slices outlive the source.
        meta.unlink(ROOT, "f");
        assertEquals(Set.of(), pending());
        meta.unlink(ROOT, "copy");
        Set<SliceRef> p = pending();
        assertTrue(p.containsAll(Set.of(ref(a), ref(b))), p.toString());
    }

    // ---- copyRange ----

    /** What a reader sees at file offset {@code at}: {@code id@offsetInSlice}, or "0" for zeros. */
    private String seen(long inode, long at) throws FsException {
        int cs = format.chunkSize();
        List<Slice> recs = meta.readChunk(inode, (int) (at / cs));
        int pos = (int) (at % cs);
        for (int i = recs.size() - 1; i >= 0; i--) {
            Slice s = recs.get(i);
            if (s.pos() <= pos && pos < s.end()) {
                return s.isHole() ? "0" : s.id() + "@" + (s.off() + pos - s.pos());
            }
        }
        return "0";
    }

    /** References per slice id as scanSlices reports them. */
    private Map<Long, Long> storedRefs() throws FsException {
        Map<Long, Long> refs = new java.util.HashMap<>();
        long after = 0;
        for (List<StoredSlice> page; !(page = meta.scanSlices(after, 1000)).isEmpty();
                after = page.get(page.size() - 1).id()) {
            page.forEach(x -> refs.put(x.id(), x.refs()));
        }
        return refs;
    }

    @Test
    void copyRangeMakesTheDestinationReadAsTheSourceAcrossChunksWithoutData() throws Exception {
        int cs = format.chunkSize();
        long f = file(ROOT, "src").inode();
        Slice a = write(f, 0, 0, 5000);
        Slice b = write(f, 0, 1000, 2000); // newer, on top of a
        Slice c = write(f, 1, 0, 100);
        meta.writeSlice(f, 0, Slice.hole(4000, 200), 1L); // zeros inside a
        long g = file(ROOT, "dst").inode();
        Slice d = write(g, 0, 0, 10_000);
        Slice e = write(g, 0, cs - 3000, 3000);
        long usedBefore = meta.statfs().usedBytes();
        long srcOff = 500;
        long dstOff = cs - 2000; // the copy crosses the destination's chunk boundary
        List<String> srcBefore = new ArrayList<>();
        long[] probes = {0, 1, 499, 500, 501, 2499, 2500, 3499, 3500, 3699, 3700, 4499, 4500, 1999, 2000, 2001,
                cs - 501, cs - 500, cs - 499, cs - 401};
        for (long i : probes) {
            srcBefore.add(seen(f, srcOff + i));
        }

        long n = meta.copyRange(f, srcOff, g, dstOff, 2L * cs, 7_000_000L);
        assertEquals(cs + 100 - srcOff, n, "short at the source's end");
        Attr dst = meta.getattr(g);
        assertEquals(dstOff + n, dst.length());
        assertEquals(7_000_000L, dst.mtimeNs());
        assertEquals(7_000_000L, dst.ctimeNs());
        for (int i = 0; i < probes.length; i++) {
            assertEquals(srcBefore.get(i), seen(g, dstOff + probes[i]), "destination at +" + probes[i]);
        }
        Random r = new Random(7);
        for (int i = 0; i < 300; i++) {
            long at = (long) (r.nextDouble() * n);
            assertEquals(seen(f, srcOff + at), seen(g, dstOff + at), "destination at +" + at);
        }
        assertEquals(a.id() + "@" + 3, seen(f, 3));
        assertEquals(d.id() + "@9999", seen(g, 9999), "before the range the destination is as it was");
        assertEquals(e.id() + "@999", seen(g, dstOff - 1));
        assertEquals("0", seen(g, dstOff + 3600), "the source's hole is copied as zeros");
        assertEquals(c.id() + "@99", seen(g, dstOff + n - 1));
        assertEquals(Set.of(), pending());
        long used = meta.statfs().usedBytes();
        long grown = dstOff + n - cs;
        assertTrue(used > usedBefore && used <= usedBefore + grown + 4096, "usage grows with the length only");
        // Every copied record holds a reference (the harness's check counts them all after the test).
        Map<Long, Long> refs = storedRefs();
        assertTrue(refs.get(a.id()) >= 2 && refs.get(b.id()) >= 2 && refs.get(c.id()) == 2, refs.toString());
        assertEquals(List.of(c), meta.readChunk(f, 1), "the source keeps its records");
    }

    @Test
    void copyRangeSlicesOutliveEitherFileUntilBothAreUnlinked() throws Exception {
        long f = file(ROOT, "src").inode();
        Slice a = write(f, 0, 0, 5000);
        Slice b = write(f, 1, 0, 100);
        long g = file(ROOT, "dst").inode();
        Slice d = write(g, 0, 0, 100);
        meta.copyRange(f, 0, g, 50, format.chunkSize() + 100L, 1L);
        meta.unlink(ROOT, "src");
        assertEquals(Set.of(), pending(), "the destination still reads the source's slices");
        assertEquals(a.id() + "@0", seen(g, 50));
        assertEquals(d.id() + "@49", seen(g, 49));
        meta.unlink(ROOT, "dst");
        assertEquals(Set.of(ref(a), ref(b), ref(d)), pending());
        assertTrue(storedRefs().values().stream().allMatch(x -> x == 0), "no reference is left behind");

        // The other order: the destination goes first.
        long f2 = file(ROOT, "src2").inode();
        Slice x = write(f2, 0, 0, 300);
        long g2 = file(ROOT, "dst2").inode();
        meta.copyRange(f2, 100, g2, 0, 200, 1L);
        assertEquals(x.id() + "@100", seen(g2, 0));
        meta.unlink(ROOT, "dst2");
        assertEquals(Set.of(ref(a), ref(b), ref(d)), pending());
        meta.unlink(ROOT, "src2");
        assertTrue(pending().contains(ref(x)));
    }

    @Test
    void copyRangeOverwritesTheDestinationWithTheSourcesZerosAndTruncateAndCompactionKeepCounts()
            throws Exception {
        int cs = format.chunkSize();
        long f = file(ROOT, "sparse").inode();
        meta.truncate(f, 10_000); // no records: all zeros
        long g = file(ROOT, "dst").inode();
        Slice d = write(g, 0, 0, 10_000);
        assertEquals(5000, meta.copyRange(f, 0, g, 0, 5000, 1L));
        assertEquals("0", seen(g, 0));
        assertEquals("0", seen(g, 4999));
        assertEquals(d.id() + "@5000", seen(g, 5000));
        assertEquals(10_000, meta.getattr(g).length());

        long h = file(ROOT, "h").inode();
        Slice s = write(h, 0, 0, 8192);
        meta.copyRange(h, 0, g, 2L * cs + 10, 8192, 1L);
        // Truncate drops the copied chunk's records, compaction replaces the rest: counts stay exact.
        meta.truncate(g, cs);
        List<Slice> recs = meta.readChunk(g, 0);
        Slice whole = new Slice(meta.newSliceIds(1), 10_000, 0, 10_000, 0);
        assertTrue(meta.compactChunk(g, 0, recs, List.of(whole)));
        assertEquals(Set.of(ref(d)), pending());
        assertEquals(1L, storedRefs().get(s.id()));
    }

    @Test
    void copyRangeWithinOneFileAndItsErrors() throws Exception {
        long f = file(ROOT, "f").inode();
        Slice a = write(f, 0, 0, 1000);
        assertEquals(300, meta.copyRange(f, 0, f, 2000, 300, 1L), "one file, ranges apart");
        assertEquals(a.id() + "@299", seen(f, 2299));
        assertEquals(2300, meta.getattr(f).length());
        assertErrno(Errno.EINVAL, () -> meta.copyRange(f, 0, f, 100, 300, 1L));
        assertErrno(Errno.EINVAL, () -> meta.copyRange(f, 100, f, 0, 300, 1L));
        assertErrno(Errno.EINVAL, () -> meta.copyRange(f, -1, f, 5000, 1, 1L));
        assertErrno(Errno.EINVAL, () -> meta.copyRange(f, 0, f, -1, 1, 1L));
        assertErrno(Errno.EINVAL, () -> meta.copyRange(f, 0, f, 5000, -1, 1L));
        long max = MetadataEngine.MAX_FILE_SIZE;
        assertErrno(Errno.EFBIG, () -> meta.copyRange(f, 0, f, max - 10, 100, 1L));
        assertErrno(Errno.EFBIG, () -> meta.copyRange(f, 0, f, Long.MAX_VALUE, 100, 1L));
        long dir = dir(ROOT, "d").inode();
        assertErrno(Errno.EISDIR, () -> meta.copyRange(dir, 0, f, 5000, 1, 1L));
        assertErrno(Errno.EISDIR, () -> meta.copyRange(f, 0, dir, 0, 1, 1L));
        long link = meta.mknod(ROOT, "l", FileType.SYMLINK, 0777, UID, GID, 0, "f").inode();
        assertErrno(Errno.EINVAL, () -> meta.copyRange(f, 0, link, 0, 1, 1L));
        assertErrno(Errno.ENOENT, () -> meta.copyRange(f, 0, 999_999, 0, 1, 1L));
        List<Slice> before = meta.readChunk(f, 0);
        // At or past the source's end nothing is copied and nothing changes; a copy that ends on the
        // largest length is allowed.
        assertEquals(0, meta.copyRange(f, 2300, f, 10_000, 100, 1L));
        assertEquals(0, meta.copyRange(f, Long.MAX_VALUE, f, Long.MAX_VALUE, Long.MAX_VALUE, 1L));
        assertEquals(before, meta.readChunk(f, 0));
        assertEquals(2300, meta.getattr(f).length());
        long g = file(ROOT, "g").inode();
        assertErrno(Errno.EFBIG, () -> meta.copyRange(f, 0, g, max - 10, Long.MAX_VALUE - 1, 1L));
        assertEquals(10, meta.copyRange(f, 0, g, max - 10, 10, 1L));
        assertEquals(max, meta.getattr(g).length());
        assertEquals(a.id() + "@9", seen(g, max - 1));
    }

    @Test
    void copyRangeOfTheLargestSparseFileCostsItsStoredChunksAlone() throws Exception {
        // An engine that walked every chunk index of the range would not finish this call.
        long max = MetadataEngine.MAX_FILE_SIZE;
        int cs = format.chunkSize();
        long f = file(ROOT, "huge").inode();
        Slice first = write(f, 0, 0, 100);
        Slice last = write(f, (int) (max / cs) - 1, cs - 4096, 4096);
        long g = file(ROOT, "copy").inode();
        Slice old = write(g, (int) (max / cs / 2), 0, 10);
        assertEquals(max, meta.copyRange(f, 0, g, 0, max, 1L));
        assertEquals(max, meta.getattr(g).length());
        assertEquals(first.id() + "@99", seen(g, 99));
        assertEquals(last.id() + "@4095", seen(g, max - 1));
        assertEquals("0", seen(g, max / 2), "the source's zeros replace what the copy held");
        meta.unlink(ROOT, "huge");
        meta.unlink(ROOT, "copy");
        assertEquals(Set.of(ref(first), ref(last), ref(old)), pending());
    }

    @Test
    void cloneOfATreeCopiesEverythingAndSharesSlices() throws Exception {
        long usedBase = meta.statfs().usedBytes();
        long inodeBase = meta.statfs().usedInodes();
        long src = dir(ROOT, "src").inode();
        meta.setattr(src, SetAttr.mode(0750));
        meta.setxattr(src, "user.tag", "top".getBytes(StandardCharsets.UTF_8), 0);
        long a = file(src, "a").inode();
        Set<SliceRef> refs = new HashSet<>();
        refs.add(ref(write(a, 0, 0, 70_000)));
        refs.add(ref(write(a, 1, 10, 20)));
        meta.setxattr(a, "user.a", new byte[] {1}, 0);
        long sub = dir(src, "sub").inode();
        long b = file(sub, "b").inode();
        refs.add(ref(write(b, 0, 0, 9000)));
        meta.truncate(b, 4000);
        meta.mknod(sub, "link", FileType.SYMLINK, 0777, UID, GID, 0, "../a");
        meta.mknod(sub, "fifo", FileType.FIFO, 0600, UID, GID, 0, null);
        dir(sub, "empty");
        long usedSrc = meta.statfs().usedBytes() - usedBase;
        long inodesSrc = meta.statfs().usedInodes() - inodeBase;
        long rootLinks = nlink(ROOT);

        Entry c = meta.clone(src, ROOT, "copy", 7, 8);
        assertEquals(FileType.DIRECTORY, c.attr().type());
        assertEquals(rootLinks + 1, nlink(ROOT));
        assertEquals(ROOT, ino(c.inode(), ".."));
        TreeSnapshot original = TreeSnapshot.of(meta, src, format.chunkSize());
        TreeSnapshot copy = TreeSnapshot.of(meta, c.inode(), format.chunkSize());
        assertEquals(original.shapes(), copy.shapes());
        for (TreeSnapshot.Node n : copy.nodes().values()) {
            assertEquals(7, n.uid());
            assertEquals(8, n.gid());
            assertTrue(original.lacks(n.inode()), "the copy has inodes of its own");
        }
        assertEquals(2 * inodesSrc, meta.statfs().usedInodes() - inodeBase);
        assertEquals(2 * usedSrc, meta.statfs().usedBytes() - usedBase);
        assertEquals(c.inode(), ino(ino(c.inode(), "sub"), ".."));

        removeTree(ROOT, "src");
        assertEquals(Set.of(), pending(), "the clone still references every slice");
        assertEquals(copy, TreeSnapshot.of(meta, c.inode(), format.chunkSize()));
        removeTree(ROOT, "copy");
        assertEquals(refs, pending());
        assertEquals(inodeBase, meta.statfs().usedInodes());
        assertEquals(usedBase, meta.statfs().usedBytes());
    }

    @Test
    void cloneErrors() throws Exception {
        long a = dir(ROOT, "a").inode();
        long b = dir(a, "b").inode();
        long f = file(ROOT, "f").inode();
        TreeSnapshot before = snapshot();
        assertErrno(Errno.EEXIST, () -> meta.clone(f, ROOT, "a", UID, GID));
        assertErrno(Errno.EINVAL, () -> meta.clone(a, b, "x", UID, GID));
        assertErrno(Errno.EINVAL, () -> meta.clone(a, a, "x", UID, GID));
        assertErrno(Errno.ENOENT, () -> meta.clone(987_654_321L, ROOT, "x", UID, GID));
        assertErrno(Errno.ENOTDIR, () -> meta.clone(a, f, "x", UID, GID));
        assertEquals(before, snapshot());
    }

    // ---- sessions and open files ----

    @Test
    void anOpenFileOutlivesItsLastNameUntilReleased() throws Exception {
        long f = file(ROOT, "f").inode();
        Slice s = write(f, 0, 0, 100);
        long session = meta.openSession("tck reader");
        meta.open(session, f);
        long inodes = meta.statfs().usedInodes();
        meta.unlink(ROOT, "f");
        assertErrno(Errno.ENOENT, () -> meta.lookup(ROOT, "f"));
        Attr a = meta.getattr(f);
        assertEquals(0, a.nlink());
        assertEquals(100, a.length());
        assertEquals(List.of(s), meta.readChunk(f, 0));
        assertEquals(List.of(s), other().readChunk(f, 0));
        assertEquals(Set.of(), pending());
        // Still writable through the open handle.
        Slice t = write(f, 0, 100, 50);
        assertEquals(150, meta.getattr(f).length());
        assertErrno(Errno.ENOENT, () -> meta.link(f, ROOT, "resurrected"));
        meta.release(session, f);
        assertErrno(Errno.ENOENT, () -> meta.getattr(f));
        assertEquals(Set.of(ref(s), ref(t)), pending());
        assertEquals(inodes - 1, meta.statfs().usedInodes());
        meta.closeSession(session);
    }

    @Test
    void releaseOfAFileStillLinkedKeepsIt() throws Exception {
        long f = file(ROOT, "f").inode();
        long session = meta.openSession("tck");
        meta.open(session, f);
        meta.release(session, f);
        assertEquals(1, nlink(f));
        meta.unlink(ROOT, "f");
        assertErrno(Errno.ENOENT, () -> meta.getattr(f));
    }

    @Test
    void theLastOfSeveralSessionsReclaims() throws Exception {
        long f = file(ROOT, "f").inode();
        Slice s = write(f, 0, 0, 100);
        MetadataEngine o = other();
        long s1 = meta.openSession("one");
        long s2 = o.openSession("two");
        assertNotEquals(s1, s2);
        meta.open(s1, f);
        o.open(s2, f);
        meta.unlink(ROOT, "f");
        meta.release(s1, f);
        assertEquals(0, nlink(f));
        assertEquals(Set.of(), pending());
        o.release(s2, f);
        assertErrno(Errno.ENOENT, () -> meta.getattr(f));
        assertEquals(Set.of(ref(s)), pending());
    }

    @Test
    void closeSessionReleasesEverythingItHeld() throws Exception {
        long f = file(ROOT, "f").inode();
        long g = file(ROOT, "g").inode();
        long h = file(ROOT, "h").inode();
        Slice sf = write(f, 0, 0, 10);
        Slice sg = write(g, 0, 0, 10);
        long session = meta.openSession("tck");
        meta.open(session, f);
        meta.open(session, g);
        meta.open(session, h);
        meta.unlink(ROOT, "f");
        meta.unlink(ROOT, "g");
        meta.closeSession(session);
        assertErrno(Errno.ENOENT, () -> meta.getattr(f));
        assertErrno(Errno.ENOENT, () -> meta.getattr(g));
        assertEquals(1, nlink(h));
        assertEquals(Set.of(ref(sf), ref(sg)), pending());
        assertErrno(Errno.ENOENT, () -> meta.heartbeat(session));
        assertErrno(Errno.ENOENT, () -> meta.open(session, h));
    }

    @Test
    void staleSessionsAreCleanedAndTheirFilesReclaimed() throws Exception {
        MetadataEngine dead = other();
        long session = dead.openSession("crashed client");
        long f = file(ROOT, "f").inode();
        Slice s = write(f, 0, 0, 10);
        dead.open(session, f);
        dead.heartbeat(session);
        meta.unlink(ROOT, "f");
        assertEquals(0, meta.cleanStaleSessions(3_600_000L), "nothing is an hour old");
        assertEquals(0, nlink(f));
        // Make sure the clock has moved past the last heartbeat, then treat every session as stale.
        long t = System.currentTimeMillis();
        while (System.currentTimeMillis() < t + 5) {
            Thread.sleep(1);
        }
        assertEquals(1, meta.cleanStaleSessions(0));
        assertErrno(Errno.ENOENT, () -> meta.getattr(f));
        assertEquals(Set.of(ref(s)), pending());
        assertErrno(Errno.ENOENT, () -> dead.heartbeat(session));
        assertEquals(0, meta.cleanStaleSessions(0));
    }

    @Test
    void aSessionKnowsWhetherOthersAreOpen() throws Exception {
        long mine = meta.openSession("alone");
        assertFalse(meta.otherSessions(mine), "only this session");
        MetadataEngine o = other();
        long theirs = o.openSession("another client");
        assertTrue(meta.otherSessions(mine));
        assertTrue(o.otherSessions(theirs));
        o.closeSession(theirs);
        assertFalse(meta.otherSessions(mine), "the other session ended");
        long silent = o.openSession("goes silent");
        assertTrue(meta.otherSessions(mine), "a silent session counts until it is cleaned up");
        // Silent for over a second, while this one was heard just now: only a call taking a whole second
        // between the heartbeat and the clean-up would make this one stale too (a 3 ms margin did, once, on
        // a loaded machine).
        long t = System.currentTimeMillis();
        while (System.currentTimeMillis() < t + 1500) {
            Thread.sleep(10);
        }
        meta.heartbeat(mine);
        assertEquals(1, meta.cleanStaleSessions(1000));
        assertFalse(meta.otherSessions(mine));
        assertErrno(Errno.ENOENT, () -> o.heartbeat(silent));
        meta.closeSession(mine);
    }

    @Test
    void sessionsAreListedWithTheirInfoMostRecentlyHeardFirst() throws Exception {
        long first = meta.openSession("pid=1 group=g member=http://10.0.0.1:9000");
        MetadataEngine o = other();
        long second = o.openSession("pid=2");
        long t = System.currentTimeMillis();
        while (System.currentTimeMillis() < t + 20) {
            Thread.sleep(1);
        }
        meta.heartbeat(first); // now first was heard from last
        List<SessionRecord> all = o.sessions(10);
        assertEquals(List.of(first, second), all.stream().map(SessionRecord::id).toList());
        assertEquals("pid=1 group=g member=http://10.0.0.1:9000", all.get(0).info(), "the info it opened with");
        assertEquals("pid=2", all.get(1).info());
        assertTrue(all.get(1).sinceHeartbeatMs() >= 15, "second was silent for 20 ms: " + all.get(1));
        assertTrue(all.get(0).sinceHeartbeatMs() <= all.get(1).sinceHeartbeatMs());
        assertEquals(List.of(first), meta.sessions(1).stream().map(SessionRecord::id).toList(), "at most the limit");
        assertEquals(List.of(), meta.sessions(0));
        assertErrno(Errno.EINVAL, () -> meta.sessions(-1));
        o.closeSession(second);
        assertEquals(List.of(first), meta.sessions(10).stream().map(SessionRecord::id).toList(), "a closed one goes");
        meta.closeSession(first);
        assertEquals(List.of(), meta.sessions(10));
    }

    @Test
    void sessionErrors() throws Exception {
        long session = meta.openSession("tck");
        assertErrno(Errno.ENOENT, () -> meta.open(session, 987_654_321L));
        assertErrno(Errno.ENOENT, () -> meta.heartbeat(session + 1000));
        long f = file(ROOT, "f").inode();
        meta.release(session, f);
        assertEquals(1, nlink(f), "releasing what was never opened changes nothing");
    }

    // ---- concurrency ----

    @Test
    void concurrentCreatesOfDistinctNamesAllSucceed() throws Exception {
        MetadataEngine o = other();
        long d = dir(ROOT, "d").inode();
        long inodes = meta.statfs().usedInodes();
        ExecutorService p = pool(8);
        List<Future<Void>> futures = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int thread = t;
            MetadataEngine m = t % 2 == 0 ? meta : o;
            futures.add(p.submit(() -> {
                for (int i = 0; i < 25; i++) {
                    FileType type = thread < 2 ? FileType.DIRECTORY : FileType.FILE;
                    m.mknod(d, "t" + thread + "-" + i, type, 0755, UID, GID, 0, null);
                }
                return null;
            }));
        }
        all(futures);
        assertEquals(200, names(d).size());
        assertEquals(2 + 50, nlink(d));
        assertEquals(inodes + 200, meta.statfs().usedInodes());
    }

    @Test
    void concurrentCreatesOfTheSameNameHaveOneWinner() throws Exception {
        MetadataEngine o = other();
        ExecutorService p = pool(8);
        int dirsWon = 0;
        for (int round = 0; round < 10; round++) {
            String name = "same-" + round;
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Errno>> futures = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                MetadataEngine m = t % 2 == 0 ? meta : o;
                FileType type = t < 4 ? FileType.DIRECTORY : FileType.FILE;
                futures.add(p.submit(() -> {
                    start.await();
                    try {
                        m.mknod(ROOT, name, type, 0755, UID, GID, 0, null);
                        return null;
                    } catch (FsException e) {
                        return e.errno();
                    }
                }));
            }
            start.countDown();
            List<Errno> outcomes = all(futures);
            assertEquals(1, outcomes.stream().filter(e -> e == null).count(), "winners of " + name);
            assertEquals(7, outcomes.stream().filter(e -> e == Errno.EEXIST).count(), outcomes.toString());
            if (meta.lookup(ROOT, name).attr().isDirectory()) {
                dirsWon++;
            }
        }
        assertEquals(10, names(ROOT).size());
        assertEquals(2 + dirsWon, nlink(ROOT));
        assertEquals(11, meta.statfs().usedInodes());
    }

    @Test
    void concurrentWriteSlicesToOneFileAllLand() throws Exception {
        MetadataEngine o = other();
        long f = file(ROOT, "f").inode();
        ExecutorService p = pool(8);
        List<Future<List<Slice>>> futures = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int thread = t;
            MetadataEngine m = t % 2 == 0 ? meta : o;
            futures.add(p.submit(() -> {
                List<Slice> mine = new ArrayList<>();
                for (int i = 0; i < 25; i++) {
                    Slice s = new Slice(m.newSliceIds(1), 100, 0, 100, (thread * 25 + i) * 100);
                    m.writeSlice(f, 0, s, 1L);
                    mine.add(s);
                }
                return mine;
            }));
        }
        List<List<Slice>> perThread = all(futures);
        List<Slice> recs = meta.readChunk(f, 0);
        assertEquals(200, recs.size());
        for (List<Slice> mine : perThread) {
            List<Slice> inChunk = recs.stream().filter(mine::contains).collect(Collectors.toList());
            assertEquals(mine, inChunk, "each writer's records keep its order");
        }
        assertEquals(200 * 100, meta.getattr(f).length());
        meta.unlink(ROOT, "f");
        assertEquals(200, pending().size());
    }

    @Test
    void concurrentRenamesKeepLinkCountsConsistent() throws Exception {
        MetadataEngine o = other();
        long a = dir(ROOT, "a").inode();
        long b = dir(ROOT, "b").inode();
        for (int i = 0; i < 16; i++) {
            dir(a, "d" + i);
            file(a, "f" + i);
        }
        ExecutorService p = pool(4);
        List<Future<Void>> futures = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int thread = t;
            MetadataEngine m = t % 2 == 0 ? meta : o;
            futures.add(p.submit(() -> {
                Random r = new Random(thread);
                for (int i = 0; i < 30; i++) {
                    String n = (r.nextBoolean() ? "d" : "f") + (thread * 4 + r.nextInt(4));
                    // Each thread owns its names, so it knows where they are.
                    boolean inA = containsName(m, a, n);
                    m.rename(inA ? a : b, n, inA ? b : a, n, 0);
                }
                return null;
            }));
        }
        all(futures);
        List<String> inA = names(a);
        List<String> inB = names(b);
        assertEquals(32, inA.size() + inB.size());
        assertEquals(2 + inA.stream().filter(n -> n.startsWith("d")).count(), nlink(a));
        assertEquals(2 + inB.stream().filter(n -> n.startsWith("d")).count(), nlink(b));
        for (String n : inB) {
            if (n.startsWith("d")) {
                assertEquals(b, ino(ino(b, n), ".."));
            }
        }
    }

    private static boolean containsName(MetadataEngine m, long dir, String name) throws FsException {
        try {
            m.lookup(dir, name);
            return true;
        } catch (FsException e) {
            if (e.errno() == Errno.ENOENT) {
                return false;
            }
            throw e;
        }
    }

    // ---- atomicity and durability ----

    @Test
    void failedOperationsLeaveNoTrace() throws Exception {
        long a = dir(ROOT, "a").inode();
        long b = dir(a, "b").inode();
        long full = dir(ROOT, "full").inode();
        long f = file(full, "f").inode();
        Slice s = write(f, 0, 0, 100);
        meta.setxattr(f, "user.x", new byte[] {1}, 0);
        long g = file(ROOT, "g").inode();
        meta.mknod(ROOT, "l", FileType.SYMLINK, 0777, UID, GID, 0, "a/b");
        long session = meta.openSession("tck");
        meta.open(session, g);
        TreeSnapshot before = snapshot();
        StatFs usage = meta.statfs();
        Set<SliceRef> pendingBefore = pending();

        Map<Errno, List<Executable>> failing = Map.of(
                Errno.ENOTEMPTY, List.of(() -> meta.rename(ROOT, "a", ROOT, "full", 0),
                        () -> meta.rmdir(ROOT, "full")),
                Errno.EINVAL, List.of(() -> meta.rename(ROOT, "a", b, "x", 0),
                        () -> meta.clone(a, b, "x", UID, GID)),
                Errno.EEXIST, List.of(() -> file(full, "f"),
                        () -> meta.rename(ROOT, "g", full, "f", RenameFlags.NOREPLACE),
                        () -> meta.clone(a, ROOT, "full", UID, GID),
                        () -> meta.link(g, full, "f"),
                        () -> meta.setxattr(f, "user.x", new byte[] {2}, XattrFlags.CREATE)),
                Errno.ENOENT, List.of(() -> meta.rename(ROOT, "g", full, "missing", RenameFlags.EXCHANGE),
                        () -> meta.rename(full, "missing", ROOT, "g", 0)),
                Errno.EISDIR, List.of(() -> meta.unlink(ROOT, "a"), () -> meta.rename(ROOT, "g", ROOT, "a", 0),
                        () -> meta.truncate(a, 0)),
                Errno.ENOTDIR, List.of(() -> meta.rename(ROOT, "a", full, "f", 0), () -> file(f, "x")),
                Errno.EPERM, List.of(() -> meta.link(a, full, "hard")),
                Errno.ENODATA, List.of(() -> meta.removexattr(f, "user.y"),
                        () -> meta.setxattr(f, "user.y", new byte[] {1}, XattrFlags.REPLACE)));
        for (Map.Entry<Errno, List<Executable>> e : failing.entrySet()) {
            for (Executable op : e.getValue()) {
                assertErrno(e.getKey(), op);
            }
        }
        assertFalse(meta.compactChunk(f, 0, List.of(new Slice(s.id(), 1, 0, 1, 0)),
                List.of(new Slice(meta.newSliceIds(1), 1, 0, 1, 0))));
        assertEquals(before, snapshot());
        assertEquals(usage, meta.statfs());
        assertEquals(pendingBefore, pending());
        assertEquals(before, TreeSnapshot.of(other(), ROOT, format.chunkSize()));
    }

    @Test
    void committedStateSurvivesReopen() throws Exception {
        long d = dir(ROOT, "d").inode();
        long f = file(d, "f").inode();
        write(f, 0, 0, 3000);
        write(f, 2, 100, 3000);
        meta.truncate(f, 2L * format.chunkSize() + 2000);
        meta.setxattr(f, "user.k", new byte[] {1, 2}, 0);
        meta.link(f, ROOT, "hard");
        meta.mknod(d, "l", FileType.SYMLINK, 0777, UID, GID, 0, "f");
        meta.mknod(d, "dev", FileType.BLOCK_DEVICE, 0600, 0, 0, 0x801, null);
        long gone = file(d, "gone").inode();
        Slice freed = write(gone, 0, 0, 10);
        meta.unlink(d, "gone");
        meta.rename(ROOT, "d", ROOT, "moved", 0);
        long lastSlice = meta.newSliceIds(1);
        TreeSnapshot before = snapshot();
        StatFs usage = meta.statfs();

        meta.close();
        meta = other();
        assertEquals(Optional.of(format), meta.load());
        assertEquals(before, snapshot());
        assertEquals(usage, meta.statfs());
        assertEquals(Set.of(ref(freed)), pending());
        assertTrue(meta.newSliceIds(1) > lastSlice, "slice ids are not reused after a restart");
        long maxInode = before.nodes().values().stream().mapToLong(TreeSnapshot.Node::inode).max().orElseThrow();
        long fresh = file(ROOT, "fresh").inode();
        assertTrue(fresh > maxInode && fresh != gone, "inode numbers are not reused after a restart: " + fresh);
    }

    @Test
    void twoClientsSeeEachOthersChanges() throws Exception {
        MetadataEngine o = other();
        long d = dir(ROOT, "d").inode();
        assertEquals(d, o.lookup(ROOT, "d").inode());
        long f = o.mknod(d, "f", FileType.FILE, 0600, UID, GID, 0, null).inode();
        assertEquals(f, ino(d, "f"));
        Slice s = write(f, 0, 0, 777);
        assertEquals(List.of(s), o.readChunk(f, 0));
        assertEquals(777, o.getattr(f).length());
        o.rename(d, "f", ROOT, "g", 0);
        assertEquals(f, ino(ROOT, "g"));
        meta.setxattr(f, "user.a", new byte[] {5}, 0);
        assertArrayEquals(new byte[] {5}, o.getxattr(f, "user.a"));
        o.unlink(ROOT, "g");
        assertEquals(Set.of(ref(s)), pending());
        assertEquals(TreeSnapshot.of(o, ROOT, format.chunkSize()), snapshot());
    }

    @Test
    void concurrentClientsEndInAConsistentTree() throws Exception {
        MetadataEngine o = other();
        ExecutorService p = pool(4);
        List<Callable<Void>> jobs = new ArrayList<>();
        Set<String> expected = ConcurrentHashMap.newKeySet();
        for (int t = 0; t < 4; t++) {
            int thread = t;
            MetadataEngine m = t % 2 == 0 ? meta : o;
            jobs.add(() -> {
                long d = m.mknod(ROOT, "w" + thread, FileType.DIRECTORY, 0755, UID, GID, 0, null).inode();
                for (int i = 0; i < 20; i++) {
                    long f = m.mknod(d, "f" + i, FileType.FILE, 0644, UID, GID, 0, null).inode();
                    m.writeSlice(f, 0, new Slice(m.newSliceIds(1), 10, 0, 10, 0), 1L);
                    if (i % 3 == 0) {
                        m.unlink(d, "f" + i);
                    } else if (i % 3 == 1) {
                        m.rename(d, "f" + i, d, "r" + i, 0);
                        expected.add("/w" + thread + "/r" + i);
                    } else {
                        expected.add("/w" + thread + "/f" + i);
                    }
                }
                expected.add("/w" + thread);
                return null;
            });
        }
        all(p.invokeAll(jobs));
        expected.add("/");
        TreeSnapshot s = snapshot();
        assertEquals(new TreeSet<>(expected), s.nodes().keySet());
        assertEquals(s, TreeSnapshot.of(o, ROOT, format.chunkSize()));
        assertEquals(s.nodes().size(), meta.statfs().usedInodes());
        assertEquals(4 * 7, pending().size());
    }

    // ---- file size limit, bounded work, slice scans (SPI 1.1) ----

    @Test
    void aFreshVolumeCountsTheRootAsItsOneUsedInode() throws Exception {
        assertEquals(1, meta.statfs().usedInodes());
        assertEquals(0, meta.statfs().usedBytes());
    }

    @Test
    void lengthsBeyondTheLargestFileFailWithEfbigAndChangeNothing() throws Exception {
        long f = file(ROOT, "f").inode();
        Slice s = write(f, 0, 0, 100);
        long max = MetadataEngine.MAX_FILE_SIZE;
        assertErrno(Errno.EFBIG, () -> meta.truncate(f, max + 1));
        assertErrno(Errno.EFBIG, () -> meta.truncate(f, 999_999_999_999_999_999L));
        assertErrno(Errno.EFBIG, () -> meta.truncate(f, Long.MAX_VALUE));
        int lastChunk = (int) (max / format.chunkSize()); // the chunk that starts at the limit
        assertErrno(Errno.EFBIG, () -> meta.writeSlice(f, lastChunk, new Slice(meta.newSliceIds(1), 1, 0, 1, 0), 1L));
        assertEquals(100, meta.getattr(f).length());
        assertEquals(List.of(s), meta.readChunk(f, 0));
        // Exactly the limit is allowed: a write that ends on it, and a truncate to it.
        write(f, lastChunk - 1, format.chunkSize() - 10, 10);
        assertEquals(max, meta.getattr(f).length());
        meta.truncate(f, 10);
        meta.truncate(f, max);
        assertEquals(max, meta.getattr(f).length());
    }

    @Test
    void aSparseFileOfTheLargestLengthIsTruncatedAndUnlinkedByItsStoredChunksAlone() throws Exception {
        // An engine that walked every chunk index up to the length would not finish these calls.
        long f = file(ROOT, "huge").inode();
        long max = MetadataEngine.MAX_FILE_SIZE;
        int cs = format.chunkSize();
        Slice first = write(f, 0, 0, 100);
        meta.truncate(f, max);
        Slice last = write(f, (int) (max / cs) - 1, cs - 4096, 4096);
        Slice middle = write(f, (int) (max / cs / 2), 0, 10);
        meta.truncate(f, max / 2 + 5);
        assertEquals(List.of(first), meta.readChunk(f, 0));
        assertTrue(meta.readChunk(f, (int) (max / cs) - 1).isEmpty());
        assertEquals(Set.of(ref(last)), pending());
        meta.truncate(f, max - 1);
        long o = meta.openSession("tck");
        meta.open(o, f);
        meta.unlink(ROOT, "huge");
        meta.release(o, f);
        assertEquals(Set.of(ref(first), ref(middle), ref(last)), pending());
        assertEquals(1, meta.statfs().usedInodes());
        assertEquals(0, meta.statfs().usedBytes());
        meta.closeSession(o);
    }

    @Test
    void scanSlicesWalksReferencedAndPendingSlicesInIdOrderPageByPage() throws Exception {
        long a = file(ROOT, "a").inode();
        long b = file(ROOT, "b").inode();
        List<Slice> written = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            written.add(write(i % 2 == 0 ? a : b, 0, i * 100, 100));
        }
        meta.clone(a, ROOT, "a2", UID, GID);
        meta.unlink(ROOT, "b"); // b's slices now wait for deletion
        List<StoredSlice> all = new ArrayList<>();
        long after = 0;
        while (true) {
            List<StoredSlice> page = meta.scanSlices(after, 3);
            assertTrue(page.size() <= 3, "a page holds at most the limit");
            if (page.isEmpty()) {
                break;
            }
            all.addAll(page);
            after = page.get(page.size() - 1).id();
        }
        List<StoredSlice> expected = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            Slice s = written.get(i);
            expected.add(new StoredSlice(s.id(), s.size(), i % 2 == 0 ? 2 : 0));
        }
        assertEquals(expected, all);
        assertEquals(List.of(), meta.scanSlices(written.get(6).id(), 10));
        assertEquals(List.of(), meta.scanSlices(0, 0));
        // Once the blocks are deleted, the slices leave the scan.
        meta.confirmSliceDeletes(meta.pendingSliceDeletes(100));
        assertEquals(List.of(2L, 2L, 2L, 2L), meta.scanSlices(0, 100).stream().map(StoredSlice::refs).toList());
    }

    @Test
    void checkFindsNothingOnABusyButConsistentVolume() throws Exception {
        long d = dir(ROOT, "d").inode();
        long f = file(d, "f").inode();
        write(f, 0, 0, 100);
        write(f, 1, 0, 100);
        meta.link(f, ROOT, "hard");
        meta.clone(d, ROOT, "d2", UID, GID);
        meta.mknod(d, "l", FileType.SYMLINK, 0777, UID, GID, 0, "f");
        long o = meta.openSession("tck");
        long g = file(ROOT, "open").inode();
        write(g, 0, 0, 10);
        meta.open(o, g);
        meta.unlink(ROOT, "open"); // open after its last unlink: not an orphan
        List<MetaProblem> problems = new ArrayList<>();
        meta.check(false, problems::add);
        assertEquals(List.of(), problems);
        meta.release(o, g);
        meta.closeSession(o);
    }
}
