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
import io.hangar.fs.SetAttr;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.vfs.FileHandle;
import io.hangar.vfs.Volume;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files end at {@link MetadataEngine#MAX_FILE_SIZE}: writes and truncates beyond it fail with EFBIG in the
 * VFS (at the write, not at a later flush), and offsets right below it are written and read without
 * overflow.
 */
class FileSizeLimitTest {
    private static final long MAX = MetadataEngine.MAX_FILE_SIZE;
    private static final int CHUNK = 64 << 20;

    @TempDir
    Path dir;

    private static void assertEfbig(Executable op, String what) {
        FsException e = assertThrows(FsException.class, op, what);
        assertEquals(Errno.EFBIG, e.errno(), what + ": " + e.getMessage());
    }

    @Test
    void writesAndTruncatesBeyondTheLargestFileFailWithEfbig() throws Exception {
        VolumeFixture fx = new VolumeFixture(dir).format("big", Map.of());
        byte[] tail = new byte[100];
        new Random(1).nextBytes(tail);
        try (VfsVolume v = fx.open()) {
            FileHandle h = v.create(Caller.ROOT, Volume.ROOT, "f", 0644, OpenFlags.RDWR);
            long ino = h.inode();
            h.write(0, tail, 0, 10);
            assertEfbig(() -> h.write(MAX - 50, tail, 0, 100), "write ending past the largest file");
            assertEfbig(() -> h.write(MAX, tail, 0, 1), "write at the largest file size");
            assertEfbig(() -> h.write(Long.MAX_VALUE - 10, tail, 0, 100), "write whose end overflows a long");
            assertEquals(10, v.getattr(ino).length(), "a refused write leaves no pending length");
            assertEfbig(() -> v.setattr(Caller.ROOT, ino, SetAttr.size(MAX + 1)), "truncate past the largest file");
            assertEfbig(() -> v.setattr(Caller.ROOT, ino, SetAttr.size(Long.MAX_VALUE)), "truncate to 2^63-1");
            h.flush();
            assertEquals(10, v.getattr(ino).length());

            v.setattr(Caller.ROOT, ino, SetAttr.size(MAX - 5));
            try (FileHandle app = v.open(Caller.ROOT, ino, OpenFlags.WRONLY | OpenFlags.APPEND)) {
                assertEfbig(() -> app.write(0, tail, 0, 6), "append past the largest file");
                app.write(0, tail, 0, 5);
            }
            assertEquals(MAX, v.getattr(ino).length());
            v.setattr(Caller.ROOT, ino, SetAttr.size(MAX));
            h.close();
        }
        try (VfsVolume v = fx.open(); FileHandle h = v.open(Caller.ROOT, v.resolve("/f").inode(), OpenFlags.RDONLY)) {
            assertEquals(MAX, v.getattr(h.inode()).length());
            assertArrayEquals(Arrays.copyOf(tail, 5), read(h, MAX - 5, 100), "the appended end, cold");
        }
    }

    @Test
    void offsetsJustBelowTheLargestFileAreWrittenAndReadBack() throws Exception {
        VolumeFixture fx = new VolumeFixture(dir).format("edge", Map.of());
        Random r = new Random(2);
        byte[] across = new byte[3 << 20];
        byte[] last = new byte[1 << 20];
        r.nextBytes(across);
        r.nextBytes(last);
        // Across the boundary of the last two chunks, and up to the very last byte.
        long acrossAt = MAX - CHUNK - (1 << 20);
        long lastAt = MAX - last.length;
        try (VfsVolume v = fx.open()) {
            try (FileHandle h = v.create(Caller.ROOT, Volume.ROOT, "f", 0644, OpenFlags.RDWR)) {
                h.write(acrossAt, across, 0, across.length);
                h.write(lastAt, last, 0, last.length);
                assertEquals(MAX, v.getattr(h.inode()).length());
                // Read through the handle's own buffered writes (committed first), with read-ahead running.
                assertArrayEquals(across, read(h, acrossAt, across.length));
            }
        }
        try (VfsVolume v = fx.open(); FileHandle h = v.open(Caller.ROOT, v.resolve("/f").inode(), OpenFlags.RDONLY)) {
            assertEquals(MAX, v.getattr(h.inode()).length());
            assertArrayEquals(across, read(h, acrossAt, across.length), "across the last chunk boundary, cold");
            // Sequential reads to the end: read-ahead windows run into the end of the file.
            assertArrayEquals(last, read(h, lastAt, last.length + 4096), "the last MiB, cold, read past the end");
            assertArrayEquals(new byte[4096], read(h, acrossAt - 4096, 4096), "the hole before");
            assertEquals(0, read(h, MAX, 10).length, "at the end");
            assertEquals(0, read(h, Long.MAX_VALUE - 5, 10).length, "far past the end");
        }
    }
}
