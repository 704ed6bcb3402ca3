package io.hangar.it.vfs;

import static io.hangar.it.vfs.VolumeFixture.readAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.core.vfs.StoreGate;
import io.hangar.core.vfs.VfsOptions;
import io.hangar.core.vfs.VfsVolume;
import io.hangar.fs.Attr;
import io.hangar.fs.Caller;
import io.hangar.fs.DirEntry;
import io.hangar.fs.Errno;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.fs.OpenFlags;
import io.hangar.fs.SetAttr;
import io.hangar.fs.XattrFlags;
import io.hangar.meta.sqlite.SqliteMetadataEngine;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.store.ChunkStore;
import io.hangar.store.file.FileChunkStoreProvider;
import io.hangar.vfs.FileHandle;
import io.hangar.vfs.Volume;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Frozen trees ({@link Volume#freeze}): every change to a frozen node is refused with EPERM, whichever call
 * it comes through (also a handle opened for writing before the freeze), and nothing changes, as a fresh
 * volume on the same files sees; reads go on; a clone of a frozen tree is writable; {@code hangar.} xattrs
 * are the volume's own.
 *
 * <p>The tree: {@code /release} (frozen) holding {@code dir/a}, {@code b}, {@code link -> dir/a} and the
 * empty {@code sub}; {@code /outside} (not frozen) holding {@code x} and, each frozen on its own, the file
 * {@code released.bin} and the empty directory {@code emptyrel}.
 */
class FrozenTreeTest {
    private static final Caller ROOT = Caller.ROOT;
    private static final Caller USER = new Caller(1000, 1000, new int[0], 0);
    private static final byte[] A = bytes("contents of a, released");
    private static final byte[] B = bytes("contents of b");
    private static final byte[] X = bytes("a file outside the release, free to change");

    @TempDir
    Path tmp;

    private VolumeFixture fx;
    private VfsVolume v;
    private long release;
    private long dir;
    private long a;
    private long b;
    private long sub;
    private long outside;
    private long x;
    private long releasedBin;
    private String before;

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @BeforeEach
    void setUp() throws Exception {
        fx = new VolumeFixture(tmp).format("frozen", Map.of());
        v = fx.open();
        release = v.mkdir(USER, Volume.ROOT, "release", 0755).inode();
        dir = v.mkdir(USER, release, "dir", 0755).inode();
        a = write(v, dir, "a", A);
        b = write(v, release, "b", B);
        v.symlink(USER, release, "link", "dir/a");
        sub = v.mkdir(USER, release, "sub", 0755).inode();
        v.setxattr(ROOT, a, "user.note", bytes("approved"), 0);
        outside = v.mkdir(USER, Volume.ROOT, "outside", 0755).inode();
        x = write(v, outside, "x", X);
        releasedBin = write(v, outside, "released.bin", B);
        long emptyrel = v.mkdir(USER, outside, "emptyrel", 0755).inode();

        v.freeze(ROOT, release);
        v.freeze(ROOT, releasedBin);
        v.freeze(ROOT, emptyrel);
        before = snapshot();
    }

    @AfterEach
    void tearDown() throws Exception {
        v.close();
    }

    private static long write(Volume vol, long parent, String name, byte[] data) throws FsException {
        try (FileHandle h = vol.create(USER, parent, name, 0644, OpenFlags.RDWR)) {
            h.write(0, data, 0, data.length);
            return h.inode();
        }
    }

    /** Asserts that {@code op} fails with EPERM and that the whole volume, read afresh, is as before. */
    private void refused(Executable op) throws Exception {
        FsException e = assertThrows(FsException.class, op);
        assertEquals(Errno.EPERM, e.errno(), e.getMessage());
        assertEquals(before, snapshot(), "nothing changed");
    }

    /**
     * Everything a change could touch (names, types, modes, owners, lengths, links, mtimes, ctimes, xattrs,
     * symlink targets, file contents), as read through a fresh volume on the same files.
     */
    private String snapshot() throws Exception {
        try (VfsVolume fresh = fx.open()) {
            StringBuilder out = new StringBuilder();
            describe(fresh, Volume.ROOT, "/", out);
            return out.toString();
        }
    }

    private static void describe(Volume vol, long inode, String path, StringBuilder out) throws Exception {
        Attr t = vol.getattr(inode);
        out.append(path).append(' ').append(t.type()).append(" mode=").append(Integer.toOctalString(t.mode()))
                .append(" owner=").append(t.uid()).append(':').append(t.gid()).append(" nlink=").append(t.nlink())
                .append(" len=").append(t.length()).append(" mtime=").append(t.mtimeNs()).append(" ctime=")
                .append(t.ctimeNs()).append(" frozen=").append(vol.frozen(inode));
        for (String n : vol.listxattr(inode)) {
            out.append(' ').append(n).append('=').append(new String(vol.getxattr(inode, n), StandardCharsets.UTF_8));
        }
        if (t.type() == FileType.SYMLINK) {
            out.append(" -> ").append(vol.readlink(inode));
        } else if (t.type() == FileType.FILE) {
            out.append(" data=").append(new String(readAll(vol, inode), StandardCharsets.UTF_8));
        }
        out.append('\n');
        if (t.isDirectory()) {
            String after = null;
            List<DirEntry> page;
            while (!(page = vol.readdir(inode, after, 100, false)).isEmpty()) {
                for (DirEntry d : page) {
                    describe(vol, d.inode(), path + d.name() + (d.type() == FileType.DIRECTORY ? "/" : ""), out);
                    after = d.name();
                }
            }
        }
    }

    // ---- refused changes, one kind per test ----

    @Test
    void setattrIsRefused() throws Exception {
        refused(() -> v.setattr(USER, a, SetAttr.mode(0600)));
        refused(() -> v.setattr(ROOT, a, SetAttr.owner(0, 0)));
        refused(() -> v.setattr(USER, a, SetAttr.times(SetAttr.NOW, SetAttr.NOW)));
        refused(() -> v.setattr(ROOT, release, SetAttr.mode(0777)));
    }

    @Test
    void truncateIsRefused() throws Exception {
        refused(() -> v.setattr(ROOT, a, SetAttr.size(0)));
        refused(() -> v.setattr(ROOT, b, SetAttr.size(1 << 20)));
    }

    @Test
    void mknodInAFrozenDirectoryIsRefused() throws Exception {
        refused(() -> v.mknod(ROOT, dir, "fifo", FileType.FIFO, 0644, 0));
    }

    @Test
    void mkdirInAFrozenDirectoryIsRefused() throws Exception {
        refused(() -> v.mkdir(ROOT, sub, "new", 0755));
    }

    @Test
    void symlinkInAFrozenDirectoryIsRefused() throws Exception {
        refused(() -> v.symlink(ROOT, release, "link2", "b"));
    }

    @Test
    void createInAFrozenDirectoryIsRefused() throws Exception {
        refused(() -> v.create(ROOT, dir, "new", 0644, OpenFlags.RDWR));
        refused(() -> v.create(ROOT, dir, "a", 0644, OpenFlags.WRONLY | OpenFlags.EXCL));
        refused(() -> v.create(ROOT, dir, "a", 0644, OpenFlags.WRONLY | OpenFlags.TRUNC));
        // O_CREAT of a file that is there, for reading, makes nothing new.
        try (FileHandle h = v.create(ROOT, dir, "a", 0644, OpenFlags.RDONLY)) {
            assertEquals(a, h.inode());
        }
        assertEquals(before, snapshot());
    }

    @Test
    void unlinkIsRefused() throws Exception {
        refused(() -> v.unlink(ROOT, dir, "a")); // frozen parent (and node)
        refused(() -> v.unlink(ROOT, release, "link"));
        refused(() -> v.unlink(ROOT, outside, "released.bin")); // frozen node in a parent that is not
    }

    @Test
    void rmdirIsRefused() throws Exception {
        refused(() -> v.rmdir(ROOT, release, "sub")); // frozen parent (and node)
        refused(() -> v.rmdir(ROOT, outside, "emptyrel")); // frozen node in a parent that is not
    }

    @Test
    void renameIsRefused() throws Exception {
        refused(() -> v.rename(ROOT, dir, "a", dir, "a2", 0)); // within a frozen directory
        refused(() -> v.rename(ROOT, dir, "a", outside, "stolen", 0)); // out of one
        refused(() -> v.rename(ROOT, outside, "x", release, "x", 0)); // into one
        refused(() -> v.rename(ROOT, outside, "released.bin", outside, "moved", 0)); // the moved node
        refused(() -> v.rename(ROOT, outside, "x", outside, "released.bin", 0)); // the replaced node
        refused(() -> v.rename(ROOT, Volume.ROOT, "release", outside, "release", 0)); // the root of the tree
    }

    /**
     * A rename looks up the node it replaces to check that it is not frozen. When another client renames
     * over the same name between that lookup and the check, the looked-up node is gone: it was no frozen node,
     * so the rename goes on and replaces what the name holds (two gateways racing PUTs of one key once got
     * ENOENT, answered NoSuchKey, from the check).
     */
    @Test
    void aRenameOverANameAnotherClientJustReplacedSucceeds() throws Exception {
        long mine = write(v, outside, "mine", A);
        write(v, outside, "theirs", B);
        AtomicBoolean raced = new AtomicBoolean();
        MetadataEngine real = SqliteMetadataEngine.open(tmp.resolve("meta.db"));
        // The first client's engine: the other client (v) renames over x just before x's frozen check.
        MetadataEngine racing = (MetadataEngine) Proxy.newProxyInstance(MetadataEngine.class.getClassLoader(),
                new Class<?>[] {MetadataEngine.class}, (proxy, m, args) -> {
                    if (m.getName().equals("getxattr") && args[0].equals(x)
                            && VfsVolume.FROZEN_XATTR.equals(args[1]) && raced.compareAndSet(false, true)) {
                        v.rename(ROOT, outside, "theirs", outside, "x", 0);
                    }
                    try {
                        return m.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        ChunkStore store = new FileChunkStoreProvider().open(URI.create(fx.storeUrl));
        VfsOptions opts = VfsOptions.parse(Map.of());
        try (VfsVolume first = new VfsVolume(real.load().orElseThrow(), racing,
                new StoreGate(store, opts.storeWaitMs()), opts, () -> {
                    real.close();
                    store.close();
                })) {
            first.rename(ROOT, outside, "mine", outside, "x", 0);
        }
        assertTrue(raced.get(), "the other client's rename came between the lookup and the check");
        try (VfsVolume fresh = fx.open()) {
            assertEquals(mine, fresh.lookup(outside, "x").inode(), "the last rename won");
            assertArrayEquals(A, readAll(fresh, mine));
            FsException gone = assertThrows(FsException.class, () -> fresh.getattr(x));
            assertEquals(Errno.ENOENT, gone.errno(), "the node both renames replaced is gone");
        }
    }

    @Test
    void linkIsRefused() throws Exception {
        refused(() -> v.link(ROOT, a, outside, "alias")); // a frozen inode
        refused(() -> v.link(ROOT, x, release, "alias")); // into a frozen directory
    }

    @Test
    void setxattrIsRefused() throws Exception {
        refused(() -> v.setxattr(ROOT, a, "user.note", bytes("changed"), 0));
        refused(() -> v.setxattr(ROOT, release, "user.new", bytes("v"), 0));
    }

    @Test
    void removexattrIsRefused() throws Exception {
        refused(() -> v.removexattr(ROOT, a, "user.note"));
    }

    @Test
    void openForWritingIsRefused() throws Exception {
        refused(() -> v.open(ROOT, a, OpenFlags.WRONLY));
        refused(() -> v.open(ROOT, a, OpenFlags.RDWR));
        refused(() -> v.open(ROOT, a, OpenFlags.WRONLY | OpenFlags.APPEND));
        refused(() -> v.open(ROOT, a, OpenFlags.RDONLY | OpenFlags.TRUNC));
    }

    @Test
    void cloneIntoAFrozenDirectoryIsRefused() throws Exception {
        refused(() -> v.clone(ROOT, x, release, "x"));
    }

    @Test
    void copyRangeIntoAFrozenFileIsRefused() throws Exception {
        refused(() -> v.copyRange(ROOT, x, 0, a, 0, 10));
        refused(() -> v.copyRange(ROOT, x, 0, b, 1000, 10)); // also where it would only grow the file
    }

    @Test
    void zeroRangeOfAFrozenFileIsRefused() throws Exception {
        refused(() -> v.zeroRange(ROOT, a, 0, 5, true));
        refused(() -> v.zeroRange(ROOT, b, 0, 100, false));
    }

    // ---- what still works ----

    @Test
    void readsStillWork() throws Exception {
        assertTrue(v.frozen(release));
        assertTrue(v.frozen(a));
        assertEquals(a, v.resolve("/release/dir/a").inode());
        assertArrayEquals(A, readAll(v, a));
        try (FileHandle h = v.open(USER, b, OpenFlags.RDONLY)) {
            byte[] buf = new byte[B.length];
            assertEquals(B.length, h.read(0, buf, 0, buf.length));
            assertArrayEquals(B, buf);
            h.flush(); // the kernel flushes read-only descriptors too: nothing to commit, not refused
        }
        assertEquals("dir/a", v.readlink(v.lookup(release, "link").inode()));
        assertEquals(List.of("b", "dir", "link", "sub"),
                v.readdir(release, null, 100, true).stream().map(DirEntry::name).toList());
        assertArrayEquals(bytes("approved"), v.getxattr(a, "user.note"));
        assertEquals(List.of("user.note"), v.listxattr(a));
        // What is outside the frozen tree changes as ever, and freezing again is a no-op.
        v.setattr(ROOT, x, SetAttr.mode(0600));
        v.freeze(ROOT, release);
        assertFalse(v.frozen(x));
        assertEquals(0600, v.getattr(x).mode() & 07777);
    }

    @Test
    void aHandleOpenedForWritingBeforeTheFreezeCannotChangeTheFile() throws Exception {
        long f = write(v, outside, "model.bin", bytes("v1"));
        FileHandle h = v.open(ROOT, f, OpenFlags.RDWR);
        v.freeze(ROOT, f);
        FsException e = assertThrows(FsException.class, () -> h.write(0, bytes("v2"), 0, 2));
        assertEquals(Errno.EPERM, e.errno(), e.getMessage());
        h.flush(); // nothing buffered: nothing refused
        h.close();
        try (VfsVolume fresh = fx.open()) {
            assertArrayEquals(bytes("v1"), readAll(fresh, f));
        }
    }

    @Test
    void bufferedWritesOfAnotherVolumeAreRefusedAtTheirCommit() throws Exception {
        long f = write(v, outside, "model.bin", bytes("v1"));
        try (VfsVolume other = fx.open()) {
            FileHandle h = other.open(ROOT, f, OpenFlags.RDWR);
            byte[] v2 = bytes("v2, not released");
            h.write(0, v2, 0, v2.length); // buffered in the other volume, not committed
            v.freeze(ROOT, f);
            Thread.sleep(Volume.FROZEN_RECHECK_MS + 200);
            FsException e = assertThrows(FsException.class, h::flush);
            assertEquals(Errno.EPERM, e.errno(), e.getMessage());
            e = assertThrows(FsException.class, () -> h.write(0, bytes("v3"), 0, 2));
            assertEquals(Errno.EPERM, e.errno(), e.getMessage());
            e = assertThrows(FsException.class, h::close); // the commit at release is refused too
            assertEquals(Errno.EPERM, e.errno(), e.getMessage());
        }
        try (VfsVolume fresh = fx.open()) {
            assertArrayEquals(bytes("v1"), readAll(fresh, f));
            assertEquals(2, fresh.getattr(f).length());
        }
    }

    @Test
    void aCloneOfAFrozenTreeIsWritable() throws Exception {
        long copy = v.clone(ROOT, release, Volume.ROOT, "copy").inode();
        assertFalse(v.frozen(copy));
        long copyDir = v.lookup(copy, "dir").inode();
        long copyA = v.lookup(copyDir, "a").inode();
        assertFalse(v.frozen(copyA));
        assertEquals(List.of("user.note"), v.listxattr(copyA)); // the copied hangar.frozen stays hidden
        try (FileHandle h = v.open(ROOT, copyA, OpenFlags.RDWR | OpenFlags.TRUNC)) {
            h.write(0, bytes("next"), 0, 4);
        }
        v.mkdir(ROOT, copy, "more", 0755);
        v.setxattr(ROOT, copyA, "user.note", bytes("draft"), 0);
        v.unlink(ROOT, copy, "b");
        try (VfsVolume fresh = fx.open()) {
            assertArrayEquals(bytes("next"), readAll(fresh, fresh.resolve("/copy/dir/a").inode()));
            assertEquals(List.of("dir", "link", "more", "sub"),
                    fresh.readdir(copy, null, 100, false).stream().map(DirEntry::name).toList());
            assertArrayEquals(A, readAll(fresh, a));
        }
        // The copy is a snapshot that can be released in turn.
        v.freeze(ROOT, copy);
        FsException e = assertThrows(FsException.class, () -> v.open(ROOT, copyA, OpenFlags.WRONLY));
        assertEquals(Errno.EPERM, e.errno());
    }

    @Test
    void onlyRootMayFreeze() throws Exception {
        FsException e = assertThrows(FsException.class, () -> v.freeze(USER, x));
        assertEquals(Errno.EPERM, e.errno());
        assertFalse(v.frozen(x));
        try (VfsVolume fresh = fx.open()) {
            assertFalse(fresh.frozen(x));
        }
        v.setattr(USER, x, SetAttr.mode(0600)); // still changes
    }

    @Test
    void hangarXattrsAreReservedAndHidden() throws Exception {
        for (Caller c : List.of(ROOT, USER)) {
            for (long ino : List.of(x, a)) {
                FsException e = assertThrows(FsException.class,
                        () -> v.setxattr(c, ino, "hangar.frozen", bytes(Long.toString(ino)), 0));
                assertEquals(Errno.EPERM, e.errno());
                e = assertThrows(FsException.class, () -> v.setxattr(c, ino, "hangar.other", bytes("v"), 0));
                assertEquals(Errno.EPERM, e.errno());
                e = assertThrows(FsException.class, () -> v.removexattr(c, ino, "hangar.frozen"));
                assertEquals(Errno.EPERM, e.errno());
            }
        }
        FsException e = assertThrows(FsException.class, () -> v.getxattr(a, "hangar.frozen"));
        assertEquals(Errno.ENODATA, e.errno());
        assertEquals(List.of("user.note"), v.listxattr(a));
        assertEquals(List.of(), v.listxattr(release));
        assertFalse(v.frozen(x));
        assertEquals(before, snapshot());
    }

    @Test
    void freezingLeavesEveryAttributeAsItWasCtimeToo() throws Exception {
        // The repository trusts an upload's MD5 while the file's ctime is the one it recorded at the upload.
        long model = v.mkdir(USER, outside, "model", 0755).inode();
        long w = write(v, model, "weights", bytes("w1"));
        String unfrozen;
        try (VfsVolume fresh = fx.open()) {
            StringBuilder out = new StringBuilder();
            describe(fresh, model, "/outside/model/", out);
            unfrozen = out.toString();
        }
        v.freeze(ROOT, model);
        try (VfsVolume fresh = fx.open()) {
            assertTrue(fresh.frozen(model) && fresh.frozen(w));
            StringBuilder out = new StringBuilder();
            describe(fresh, model, "/outside/model/", out);
            assertEquals(unfrozen.replace("frozen=false", "frozen=true"), out.toString());
        }
    }

    @Test
    void aVolumeKnowsWhetherItIsTheOnlyClient() throws Exception {
        assertTrue(v.soleClient());
        try (VfsVolume other = fx.open()) {
            assertFalse(v.soleClient());
            assertFalse(other.soleClient());
        }
        assertTrue(v.soleClient(), "the other volume closed its session");
    }

    @Test
    void callersCannotHideAnXattrChangeFromCtime() throws Exception {
        for (Caller c : List.of(ROOT, USER)) {
            FsException e = assertThrows(FsException.class,
                    () -> v.setxattr(c, x, "user.k", bytes("v"), XattrFlags.KEEP_CTIME));
            assertEquals(Errno.EINVAL, e.errno());
        }
        assertEquals(before, snapshot(), "nothing changed");
    }

    @Test
    void anotherVolumeRefusesChangesToATreeTheFirstFroze() throws Exception {
        long model = v.mkdir(ROOT, outside, "model", 0755).inode();
        long w = write(v, model, "weights", bytes("w1"));
        try (VfsVolume other = fx.open()) {
            assertFalse(other.frozen(model)); // remembered as not frozen, for at most FROZEN_RECHECK_MS
            assertFalse(other.frozen(w));
            v.freeze(ROOT, model);
            Thread.sleep(Volume.FROZEN_RECHECK_MS + 200);
            String frozenState = snapshot();
            assertTrue(other.frozen(model));
            for (Executable op : List.<Executable>of(
                    () -> other.mkdir(ROOT, model, "late", 0755),
                    () -> other.open(ROOT, w, OpenFlags.WRONLY),
                    () -> other.setattr(ROOT, w, SetAttr.size(0)),
                    () -> other.unlink(ROOT, model, "weights"))) {
                FsException e = assertThrows(FsException.class, op);
                assertEquals(Errno.EPERM, e.errno(), e.getMessage());
            }
            assertEquals(frozenState, snapshot());
            assertArrayEquals(bytes("w1"), readAll(other, w));
        }
    }

    @Test
    void freezeWalksLargeAndDeepTreesAndIsIdempotent() throws Exception {
        long big = v.mkdir(ROOT, outside, "big", 0755).inode();
        long many = v.mkdir(ROOT, big, "many", 0755).inode();
        List<Long> nodes = new ArrayList<>(List.of(big, many));
        for (int i = 0; i < 600; i++) { // more than two readdir pages of the walk
            nodes.add(v.mknod(ROOT, many, String.format("f%03d", i), FileType.FILE, 0644, 0).inode());
        }
        long deep = big;
        for (int i = 0; i < 8; i++) {
            deep = v.mkdir(ROOT, deep, "d" + i, 0755).inode();
            nodes.add(deep);
            nodes.add(v.mknod(ROOT, deep, "leaf", FileType.FILE, 0644, 0).inode());
        }
        nodes.add(v.mknod(ROOT, big, "zlast", FileType.FILE, 0644, 0).inode()); // after the subdirectories
        v.freeze(ROOT, big);
        String once = snapshot();
        v.freeze(ROOT, big);
        assertEquals(once, snapshot(), "freezing again changes nothing (no ctime either)");
        try (VfsVolume fresh = fx.open()) {
            for (long n : nodes) {
                assertTrue(fresh.frozen(n), "inode " + n);
            }
        }
        assertFalse(v.frozen(outside));
    }

    @Test
    void aFrozenTreeIsPurgedWholeByRootOnly() throws Exception {
        refused(() -> v.purge(USER, Volume.ROOT, "release"));
        // A part of a frozen tree cannot be purged: that would change it.
        refused(() -> v.purge(ROOT, release, "dir"));
        v.purge(ROOT, Volume.ROOT, "release");
        v.purge(ROOT, outside, "released.bin");
        try (VfsVolume fresh = fx.open()) {
            FsException gone = assertThrows(FsException.class, () -> fresh.lookup(Volume.ROOT, "release"));
            assertEquals(Errno.ENOENT, gone.errno());
            assertThrows(FsException.class, () -> fresh.lookup(outside, "released.bin"));
            assertArrayEquals(X, readAll(fresh, x));
            // The engine's own check finds the purged tree's nodes and references gone, not leaked.
            java.util.List<io.hangar.spi.meta.MetaProblem> problems = new java.util.ArrayList<>();
            try (io.hangar.spi.meta.MetadataEngine e = java.util.ServiceLoader
                    .load(io.hangar.spi.meta.MetadataEngineProvider.class).stream().map(java.util.ServiceLoader.Provider::get)
                    .filter(p -> p.schemes().contains("sqlite")).findFirst().orElseThrow()
                    .open(java.net.URI.create(fx.metaUrl))) {
                e.check(false, problems::add);
            }
            assertEquals(java.util.List.of(), problems);
        }
    }
}
