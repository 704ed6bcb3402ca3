package io.hangar.it.vfs;

import static io.hangar.it.vfs.VolumeFixture.readAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.core.vfs.VfsVolume;
import io.hangar.fs.Caller;
import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.fs.OpenFlags;
import io.hangar.spi.store.ChunkStore;
import io.hangar.vfs.FileHandle;
import io.hangar.vfs.Volume;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data that reaches the volume after the last flush of a handle (mmap write-back, a dup'd descriptor that
 * writes after the first close's flush) must be committed by the next flush or fsync of any handle of the
 * file, since FUSE drops the error of a release. A commit that still fails at release is counted.
 */
class LateWriteCommitTest {
    @TempDir
    Path dir;

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] all = new byte[n];
        int off = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, all, off, p.length);
            off += p.length;
        }
        return all;
    }

    /** What another client sees: a fresh volume on the same backend, with cold caches. */
    private static byte[] committed(VolumeFixture fx, String path) throws FsException {
        try (VfsVolume fresh = fx.open()) {
            return readAll(fresh, fresh.resolve(path).inode());
        }
    }

    @Test
    void everyFlushAndFsyncCommitsThePendingWritesOfTheInode() throws Exception {
        VolumeFixture fx = new VolumeFixture(dir).format("late", Map.of());
        byte[] a = random(100_000, 1);
        byte[] b = random(70_000, 2);
        byte[] c = random(50_000, 3);
        byte[] d = random(30_000, 4);
        try (VfsVolume v = fx.open()) {
            FileHandle h1 = v.create(Caller.ROOT, Volume.ROOT, "f", 0644, OpenFlags.WRONLY);
            h1.write(0, a, 0, a.length);
            h1.flush();
            assertArrayEquals(a, committed(fx, "/f"));

            // Handle 2 writes after handle 1's flush and flushes: committed before any release.
            FileHandle h2 = v.open(Caller.ROOT, h1.inode(), OpenFlags.WRONLY);
            h2.write(a.length, b, 0, b.length);
            h2.flush();
            assertArrayEquals(concat(a, b), committed(fx, "/f"), "flush of handle 2");

            // Write-back arriving on handle 1 after its flush; the next flush comes on a read-only handle (the
            // kernel flushes each descriptor on its close), then an fsync on it.
            FileHandle ro = v.open(Caller.ROOT, h1.inode(), OpenFlags.RDONLY);
            h1.write(a.length + b.length, c, 0, c.length);
            ro.flush();
            assertArrayEquals(concat(a, b, c), committed(fx, "/f"), "flush of a read-only handle of the inode");
            h2.write(a.length + b.length + c.length, d, 0, d.length);
            ro.fsync();
            assertArrayEquals(concat(a, b, c, d), committed(fx, "/f"), "fsync of a read-only handle of the inode");

            assertEquals(0, v.releaseFailures());
            ro.close();
            h2.close();
            h1.close();
            assertEquals(0, v.releaseFailures());
        }
        assertArrayEquals(concat(a, b, c, d), committed(fx, "/f"));
    }

    @Test
    void aCommitThatFailsAtReleaseIsCountedAndReported() throws Exception {
        VolumeFixture fx = new VolumeFixture(dir).format("lost", Map.of());
        // The store is taken away and I/O does not wait for it: the upload at release fails at once.
        try (VfsVolume v = fx.open(Map.of("store-wait-ms", "0"))) {
            FileHandle h = v.create(Caller.ROOT, Volume.ROOT, "f", 0644, OpenFlags.WRONLY);
            byte[] data = random(10_000, 5);
            h.write(0, data, 0, data.length);
            ChunkStore store = v.gate().detach("test took it away");
            FsException e = assertThrows(FsException.class, h::close);
            assertEquals(Errno.EIO, e.errno());
            assertEquals(1, v.releaseFailures());
            assertTrue(v.state().contains("1 commit failed at release"), v.state());
            v.gate().attach(store);

            // A clean release is not counted.
            FileHandle ok = v.open(Caller.ROOT, h.inode(), OpenFlags.WRONLY);
            ok.write(0, data, 0, data.length);
            ok.close();
            assertEquals(1, v.releaseFailures());
            assertTrue(v.state().startsWith("ok"), v.state());
        }
        assertArrayEquals(random(10_000, 5), committed(fx, "/f"));
    }
}
