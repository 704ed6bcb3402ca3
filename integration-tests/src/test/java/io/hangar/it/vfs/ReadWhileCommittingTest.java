package io.hangar.it.vfs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.hangar.core.vfs.VfsVolume;
import io.hangar.fs.Caller;
import io.hangar.fs.OpenFlags;
import io.hangar.vfs.FileHandle;
import io.hangar.vfs.Volume;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads that arrive together right after a write past the committed end (as the kernel sends a read and its
 * read-ahead at once) each see the whole file: none may find the writer idle while its slice is between
 * "sealed" and "queued for commit", skip the flush, and cut itself at the old committed length. The FUSE
 * integrity suite met this as a short read in a hole before a new last byte.
 */
class ReadWhileCommittingTest {
    @TempDir
    Path dir;

    @Test
    void concurrentReadsAfterAnExtendingWriteNeverStopAtTheOldEnd() throws Exception {
        VolumeFixture fx = new VolumeFixture(dir).format("race", Map.of());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (VfsVolume v = fx.open()) {
            FileHandle h = v.create(Caller.ROOT, Volume.ROOT, "f", 0644, OpenFlags.RDWR);
            long end = 1 << 20;
            h.write(0, new byte[(int) end], 0, (int) end);
            h.flush();
            int readers = 4;
            CyclicBarrier start = new CyclicBarrier(readers + 1);
            for (int round = 0; round < 400; round++) {
                long at = end + 300_000; // leaves a hole between the old end and the new bytes
                h.write(at, new byte[512], 0, 512);
                end = at + 512;
                long expectedEnd = end;
                List<Future<Integer>> got = new ArrayList<>();
                for (int r = 0; r < readers; r++) {
                    long from = expectedEnd - 512 - 200_000 + r * 50_000L;
                    got.add(pool.submit(() -> {
                        start.await();
                        byte[] buf = new byte[131072];
                        return h.read(from, buf, 0, buf.length);
                    }));
                }
                start.await();
                for (int r = 0; r < readers; r++) {
                    long from = expectedEnd - 512 - 200_000 + r * 50_000L;
                    assertEquals((int) Math.min(131072, expectedEnd - from), got.get(r).get(),
                            "round " + round + ", read at " + from + " of a file ending at " + expectedEnd);
                }
            }
            h.close();
        } finally {
            pool.shutdownNow();
        }
    }

    /** A chmod of a file with buffered writes answers the length getattr gives (the kernel caches it). */
    @Test
    void setattrReportsTheLengthOfBufferedWrites() throws Exception {
        VolumeFixture fx = new VolumeFixture(dir).format("race", Map.of());
        try (VfsVolume v = fx.open()) {
            FileHandle h = v.create(Caller.ROOT, Volume.ROOT, "f", 0644, OpenFlags.RDWR);
            h.write(0, new byte[300_000], 0, 300_000);
            assertEquals(300_000, v.getattr(h.inode()).length());
            assertEquals(300_000, v.setattr(Caller.ROOT, h.inode(), io.hangar.fs.SetAttr.mode(0600)).length());
            h.close();
        }
    }
}
