package io.hangar.it.vfs;

import static io.hangar.it.vfs.VolumeFixture.readAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.core.vfs.VfsVolume;
import io.hangar.fs.Caller;
import io.hangar.fs.OpenFlags;
import io.hangar.fs.SetAttr;
import io.hangar.vfs.FileHandle;
import io.hangar.vfs.Volume;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two clients on one backend (two volumes on one SQLite file and one store directory): client A replaces
 * slices (compaction, truncate and rewrite) and deletes their blocks at once, while client B reads with the
 * old slice list in its cache. The file's bytes never change, so B must read exactly them, never EIO.
 */
class StaleSliceListTest {
    private static final int SIZE = 2 << 20;

    @TempDir
    Path dir;

    /** Rewrites {@code regions} random ranges of the file with the bytes they already hold: new slices, same file. */
    private static void fragment(FileHandle h, byte[] content, int regions, Random r) throws Exception {
        for (int i = 0; i < regions; i++) {
            int off = r.nextInt(SIZE - 100_000);
            int len = 1 + r.nextInt(100_000);
            h.write(off, content, off, len);
            h.flush();
        }
    }

    private static void readRange(FileHandle h, byte[] into, int from, int to) throws Exception {
        int off = from;
        while (off < to) {
            int n = h.read(off, into, off, Math.min(128 << 10, to - off));
            assertTrue(n > 0, "short read at " + off);
            off += n;
        }
    }

    @Test
    void aReaderWithACachedSliceListReadsTheRightBytesAfterTheOldBlocksAreDeleted() throws Exception {
        VolumeFixture fx = new VolumeFixture(dir).format("stale", Map.of("block-size", "64K"));
        byte[] content = new byte[SIZE];
        new Random(1).nextBytes(content);
        // No automatic compaction: the test decides when slices are replaced. B caches one block only, and reads
        // no further ahead than asked, so every block it reads comes from the store.
        Map<String, String> noAuto = Map.of("compact-threshold", "100000");
        try (VfsVolume a = fx.open(noAuto);
                VfsVolume b = fx.open(Map.of("compact-threshold", "100000", "read-ahead", "0", "cache-size", "0"))) {
            Random r = new Random(2);
            long ino;
            FileHandle w = a.create(Caller.ROOT, Volume.ROOT, "model.bin", 0644, OpenFlags.RDWR);
            ino = w.inode();
            w.write(0, content, 0, SIZE);
            fragment(w, content, 30, r);

            // B reads the first half: its cache now holds the chunk's slice list.
            byte[] got = new byte[SIZE];
            try (FileHandle rh = b.open(Caller.ROOT, ino, OpenFlags.RDONLY)) {
                readRange(rh, got, 0, SIZE / 2);
                // A compacts the chunk and deletes the replaced blocks right away.
                assertTrue(a.compactNow(ino, 0));
                assertTrue(a.reapNow() > 0);
                readRange(rh, got, SIZE / 2, SIZE);
            }
            assertArrayEquals(content, got, "B read across a compaction");

            // Truncate and rewrite: the whole slice list is replaced by new slices with the same bytes.
            try (FileHandle rh = b.open(Caller.ROOT, ino, OpenFlags.RDONLY)) {
                Arrays.fill(got, (byte) 0);
                readRange(rh, got, 0, SIZE / 2);
                a.setattr(Caller.ROOT, ino, SetAttr.size(0));
                w.write(0, content, 0, SIZE);
                w.flush();
                assertTrue(a.reapNow() > 0);
                readRange(rh, got, SIZE / 2, SIZE);
            }
            assertArrayEquals(content, got, "B read across a truncate and rewrite");

            // A sequential reader on B, pass after pass, while A fragments, compacts and deletes again and again.
            AtomicBoolean done = new AtomicBoolean();
            AtomicInteger passes = new AtomicInteger();
            CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
                try (FileHandle rh = b.open(Caller.ROOT, ino, OpenFlags.RDONLY)) {
                    byte[] pass = new byte[SIZE];
                    boolean last = false;
                    while (!last) {
                        last = done.get();
                        Arrays.fill(pass, (byte) 0);
                        readRange(rh, pass, 0, SIZE);
                        assertArrayEquals(content, pass, "pass " + passes.get());
                        passes.incrementAndGet();
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            try {
                for (int round = 0; round < 15 && !reader.isDone(); round++) {
                    fragment(w, content, 8, r);
                    a.compactNow(ino, 0);
                    a.reapNow();
                }
            } finally {
                done.set(true);
            }
            reader.join();
            assertTrue(passes.get() > 0);
            w.close();
        }
        try (VfsVolume fresh = fx.open()) {
            long ino = fresh.resolve("/model.bin").inode();
            assertEquals(SIZE, fresh.getattr(ino).length());
            assertArrayEquals(content, readAll(fresh, ino), "read back through a fresh volume");
        }
    }
}
