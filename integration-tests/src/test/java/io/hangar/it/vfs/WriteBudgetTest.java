package io.hangar.it.vfs;

import static io.hangar.it.vfs.VolumeFixture.readAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.hangar.core.vfs.VfsVolume;
import io.hangar.fs.Caller;
import io.hangar.fs.OpenFlags;
import io.hangar.vfs.FileHandle;
import io.hangar.vfs.Volume;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many files written at once, each holding a partly filled buffer: together they need far more than the
 * write-buffer budget, and no buffer fills up on its own. Writers waiting for memory must get it by having
 * other buffers uploaded, not wait for each other forever.
 */
class WriteBudgetTest {
    private static final int FILES = 200;
    private static final int THREADS = 4;
    private static final int ROUNDS = 4;

    @TempDir
    Path dir;

    private static byte[] piece(int file, int round) {
        byte[] b = new byte[90_000 + (file * 7919 + round * 104_729) % 60_000];
        new Random(file * 1000L + round).nextBytes(b);
        return b;
    }

    private static byte[] expected(int file) {
        List<byte[]> parts = new ArrayList<>();
        int total = 0;
        for (int round = 0; round < ROUNDS; round++) {
            byte[] p = piece(file, round);
            parts.add(p);
            total += p.length;
        }
        byte[] all = new byte[total];
        int off = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, all, off, p.length);
            off += p.length;
        }
        return all;
    }

    @Test
    void twoHundredFilesWrittenAtOnceUnderASmallBudgetAllComplete() throws Exception {
        VolumeFixture fx = new VolumeFixture(dir).format("budget", Map.of());
        // 16 MiB of buffers (the smallest allowed) for 200 files whose buffers grow to 512 KiB each.
        VfsVolume v = fx.open(Map.of("buffer-size", "16M", "upload-threads", "4"));
        ExecutorService pool = Executors.newFixedThreadPool(THREADS, r -> {
            Thread t = new Thread(r, "budget-writer");
            t.setDaemon(true);
            return t;
        });
        List<Future<?>> writers = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int first = t;
            writers.add(pool.submit(() -> {
                // Each thread writes its files interleaved: one piece to each file, then the next piece to each.
                List<FileHandle> handles = new ArrayList<>();
                long[] at = new long[FILES];
                for (int f = first; f < FILES; f += THREADS) {
                    handles.add(v.create(Caller.ROOT, Volume.ROOT, "f" + f, 0644, OpenFlags.WRONLY));
                }
                for (int round = 0; round < ROUNDS; round++) {
                    int i = 0;
                    for (int f = first; f < FILES; f += THREADS) {
                        byte[] p = piece(f, round);
                        handles.get(i++).write(at[f], p, 0, p.length);
                        at[f] += p.length;
                    }
                }
                for (FileHandle h : handles) {
                    h.close();
                }
                return null;
            }));
        }
        pool.shutdown();
        for (Future<?> w : writers) {
            try {
                // A hang guard, not a performance bound: this finishes in seconds, or never when writers deadlock.
                w.get(10, TimeUnit.MINUTES);
            } catch (TimeoutException e) {
                // Leave the volume open: closing it would wait on the stuck writers.
                fail("writers are stuck waiting for write-buffer memory");
            }
        }
        v.close();
        try (VfsVolume fresh = fx.open()) {
            for (int f = 0; f < FILES; f++) {
                assertArrayEquals(expected(f), readAll(fresh, fresh.resolve("/f" + f).inode()), "file f" + f);
            }
        }
    }

    /**
     * Every writer busy with its own file in small sequential writes, so no file is idle to be shipped: the
     * waiting writers must give up their own partial buffers.
     */
    @Test
    void busyWritersOfOneFileEachUnderASmallBudgetAllComplete() throws Exception {
        VolumeFixture fx = new VolumeFixture(dir).format("busy", Map.of());
        int threads = 16;
        int size = 3 << 20;
        VfsVolume v = fx.open(Map.of("buffer-size", "16M", "upload-threads", "4"));
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "budget-writer");
            t.setDaemon(true);
            return t;
        });
        List<Future<?>> writers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int me = t;
            writers.add(pool.submit(() -> {
                byte[] data = content(me, size);
                try (FileHandle h = v.create(Caller.ROOT, Volume.ROOT, "g" + me, 0644, OpenFlags.WRONLY)) {
                    for (int off = 0; off < size; off += 32 << 10) {
                        h.write(off, data, off, Math.min(32 << 10, size - off));
                    }
                }
                return null;
            }));
        }
        pool.shutdown();
        for (Future<?> w : writers) {
            try {
                w.get(10, TimeUnit.MINUTES); // hang guard, as above
            } catch (TimeoutException e) {
                fail("writers are stuck waiting for write-buffer memory");
            }
        }
        v.close();
        try (VfsVolume fresh = fx.open()) {
            for (int t = 0; t < threads; t++) {
                assertArrayEquals(content(t, size), readAll(fresh, fresh.resolve("/g" + t).inode()), "file g" + t);
            }
        }
    }

    private static byte[] content(int seed, int size) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }
}
