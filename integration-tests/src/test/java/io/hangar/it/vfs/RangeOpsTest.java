package io.hangar.it.vfs;

import static io.hangar.it.vfs.VolumeFixture.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.hangar.core.vfs.VfsVolume;
import io.hangar.fs.Caller;
import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.fs.OpenFlags;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.vfs.FileHandle;
import io.hangar.vfs.Volume;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Volume#zeroRange} and {@link Volume#copyRange}: holes and shared ranges as slice records, with no
 * block written or copied, after the files' buffered writes (which land below them).
 */
class RangeOpsTest {
    private static final int CHUNK = 64 << 20;

    @TempDir
    Path dir;

    private static byte[] random(int len, long seed) {
        byte[] b = new byte[len];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static void assertErrno(Errno expected, org.junit.jupiter.api.function.Executable op) {
        FsException e = assertThrows(FsException.class, op);
        assertEquals(expected, e.errno(), e.getMessage());
    }

    @Test
    void zeroRangeMakesHolesOverBufferedWritesAndKeepsOrGrowsTheSize() throws Exception {
        VolumeFixture fx = new VolumeFixture(dir).format("holes", Map.of("block-size", "64K"));
        byte[] data = random(300_000, 1);
        try (VfsVolume v = fx.open(); FileHandle h = v.create(Caller.ROOT, Volume.ROOT, "f", 0644, OpenFlags.RDWR)) {
            long ino = h.inode();
            h.write(0, data, 0, data.length); // still buffered: the hole must land on top of it
            v.zeroRange(Caller.ROOT, ino, 70_000, 100_000, true);
            byte[] expected = data.clone();
            Arrays.fill(expected, 70_000, 170_000, (byte) 0);
            assertEquals(data.length, v.getattr(ino).length());
            assertArrayEquals(expected, read(v, ino, 0, data.length));
            long blocks = fx.blockObjects();

            // A write after the hole wins over it.
            h.write(100_000, data, 0, 10);
            System.arraycopy(data, 0, expected, 100_000, 10);
            assertArrayEquals(expected, read(v, ino, 0, data.length));

            // KEEP_SIZE past the end: the size stays; without it the file grows and the new bytes are zeros.
            v.zeroRange(Caller.ROOT, ino, 290_000, 50_000, true);
            Arrays.fill(expected, 290_000, 300_000, (byte) 0);
            assertEquals(300_000, v.getattr(ino).length());
            assertArrayEquals(expected, read(v, ino, 0, data.length));
            assertEquals(400_000, v.zeroRange(Caller.ROOT, ino, 250_000, 150_000, false).length());
            Arrays.fill(expected, 250_000, 300_000, (byte) 0);
            byte[] grown = Arrays.copyOf(expected, 400_000);
            assertArrayEquals(grown, read(v, ino, 0, 400_000));
            // Across a chunk boundary of a sparse file, and growing into a chunk that holds nothing.
            h.write(CHUNK - 10, data, 0, 20);
            v.zeroRange(Caller.ROOT, ino, CHUNK - 5, 10, true);
            byte[] edge = new byte[20];
            System.arraycopy(data, 0, edge, 0, 5);
            System.arraycopy(data, 15, edge, 15, 5);
            assertArrayEquals(edge, read(v, ino, CHUNK - 10, 20));
            v.zeroRange(Caller.ROOT, ino, 3L * CHUNK, 1, false);
            assertEquals(3L * CHUNK + 1, v.getattr(ino).length());
            assertArrayEquals(new byte[1], read(v, ino, 3L * CHUNK, 1));
            assertEquals(blocks + 3, fx.blockObjects(), "holes write no block (the three are the 10-byte write's"
                    + " and the 20-byte write's, one per chunk)");
        }
    }

    @Test
    void zeroRangeErrors() throws Exception {
        VolumeFixture fx = new VolumeFixture(dir).format("holeerr", Map.of());
        try (VfsVolume v = fx.open()) {
            long f = VolumeFixture.writeFile(v, "f", new byte[10]);
            long d = v.mkdir(Caller.ROOT, Volume.ROOT, "d", 0755).inode();
            assertErrno(Errno.EINVAL, () -> v.zeroRange(Caller.ROOT, f, -1, 10, true));
            assertErrno(Errno.EINVAL, () -> v.zeroRange(Caller.ROOT, f, 0, 0, true));
            assertErrno(Errno.EFBIG, () -> v.zeroRange(Caller.ROOT, f, MetadataEngine.MAX_FILE_SIZE, 1, false));
            assertErrno(Errno.EFBIG, () -> v.zeroRange(Caller.ROOT, f, Long.MAX_VALUE, Long.MAX_VALUE, true));
            assertErrno(Errno.EISDIR, () -> v.zeroRange(Caller.ROOT, d, 0, 1, true));
            assertEquals(10, v.getattr(f).length());
        }
    }

    @Test
    void copyRangeSharesBlocksAcrossChunksAfterBothFilesBufferedWrites() throws Exception {
        VolumeFixture fx = new VolumeFixture(dir).format("copies", Map.of("block-size", "64K"));
        byte[] a = random(200_000, 2);
        byte[] b = random(100_000, 3);
        try (VfsVolume v = fx.open()) {
            long src;
            long dst;
            try (FileHandle s = v.create(Caller.ROOT, Volume.ROOT, "src", 0644, OpenFlags.RDWR);
                    FileHandle d = v.create(Caller.ROOT, Volume.ROOT, "dst", 0644, OpenFlags.RDWR)) {
                src = s.inode();
                dst = d.inode();
                s.write(CHUNK - 100_000, a, 0, a.length); // crosses the source's chunk boundary
                d.write(0, b, 0, b.length);
                s.flush();
                d.flush();
                long blocks = fx.blockObjects();
                // Both still buffered: the copy sees the source's new bytes and lands over the destination's.
                s.write(CHUNK - 100_000, b, 0, 10);
                d.write(50_000, a, 0, 10);
                long n = v.copyRange(Caller.ROOT, src, CHUNK - 150_000, dst, 30_000, 1L << 30);
                assertEquals(250_000, n, "short at the source's end");
                assertEquals(280_000, v.getattr(dst).length());
                byte[] expected = new byte[280_000];
                System.arraycopy(b, 0, expected, 0, 30_000);
                System.arraycopy(a, 0, expected, 80_000, a.length);
                System.arraycopy(b, 0, expected, 80_000, 10);
                assertArrayEquals(expected, read(v, dst, 0, 280_000));
                assertEquals(blocks + 2, fx.blockObjects(), "no block copied (the two are the 10-byte writes')");
                // Into a destination chunk boundary too, within one file (ranges apart).
                assertEquals(1000, v.copyRange(Caller.ROOT, dst, 0, dst, CHUNK - 500, 1000));
                assertArrayEquals(Arrays.copyOf(b, 1000), read(v, dst, CHUNK - 500, 1000));
                assertErrno(Errno.EINVAL, () -> v.copyRange(Caller.ROOT, src, 0, src, 10, 100));
                assertErrno(Errno.EFBIG, () -> v.copyRange(Caller.ROOT, src, CHUNK - 100, dst,
                        MetadataEngine.MAX_FILE_SIZE - 10, 100));
                assertEquals(0, v.copyRange(Caller.ROOT, src, 10L * CHUNK, dst, 0, 100), "at the end: nothing");
            }
            byte[] before = read(v, dst, 0, 280_000);
            v.unlink(Caller.ROOT, Volume.ROOT, "src");
            v.reapNow();
            assertArrayEquals(before, read(v, dst, 0, 280_000), "the copy outlives its source");
            v.unlink(Caller.ROOT, Volume.ROOT, "dst");
            v.reapNow();
            assertEquals(0, fx.blockObjects(), "the shared blocks go with the last file naming them");
        }
    }
}
