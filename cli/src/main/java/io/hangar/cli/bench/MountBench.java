package io.hangar.cli.bench;

import io.hangar.cli.Progress;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code hangar bench <mountpoint>}: through a mounted volume, as any application sees it. A big file written
 * and read with 1 MiB I/O by one thread and by several, then many small files created, written, read,
 * stat'ed and deleted; printed next to {@code dd} on a local-disk directory in the same run.
 */
public final class MountBench {
    private final Path mount;
    private final long bigBytes;
    private final int threads;
    private final int smallFiles;
    private final int smallBytes;
    private final Path ddDir;
    private final PrintStream out;

    public MountBench(Path mount, long bigBytes, int threads, int smallFiles, int smallBytes, Path ddDir,
            PrintStream out) {
        this.mount = mount;
        this.bigBytes = bigBytes;
        this.threads = threads;
        this.smallFiles = smallFiles;
        this.smallBytes = smallBytes;
        this.ddDir = ddDir;
        this.out = out;
    }

    public List<VfsBench.Row> run() throws IOException, InterruptedException {
        List<VfsBench.Row> rows = new ArrayList<>();
        Files.createDirectories(ddDir);
        double ddWrite = Dd.durableWriteMiBs(ddDir, bigBytes);
        double ddRead = Dd.coldReadMiBs(ddDir, bigBytes);
        double ddCached = Dd.cachedReadMiBs(ddDir, bigBytes);
        Path dir = Files.createDirectories(mount.resolve(".bench-" + ProcessHandle.current().pid()));
        try {
            byte[] buf = new byte[1 << 20];
            new Random(1).nextBytes(buf);
            Path big = dir.resolve("big");
            long t0 = System.nanoTime();
            try (Progress p = Progress.bytes("seq write", bigBytes)) {
                writeRange(big, buf, 0, bigBytes, true, p);
            }
            rows.add(new VfsBench.Row("seq write 1 thread (1 MiB, fsync)", mibs(bigBytes, t0), "MiB/s", ddWrite,
                    "dd write, conv=fsync"));
            Dd.dropCaches();
            t0 = System.nanoTime();
            try (Progress p = Progress.bytes("seq read (cold)", bigBytes)) {
                readRange(big, 0, bigBytes, p);
            }
            rows.add(new VfsBench.Row("seq read 1 thread (cold)", mibs(bigBytes, t0), "MiB/s", ddRead,
                    "dd read after drop_caches"));
            t0 = System.nanoTime();
            try (Progress p = Progress.bytes("seq read (cached)", bigBytes)) {
                readRange(big, 0, bigBytes, p);
            }
            rows.add(new VfsBench.Row("seq read 1 thread (cached)", mibs(bigBytes, t0), "MiB/s", ddCached,
                    "dd read, page cache"));
            Files.delete(big);

            long part = bigBytes / threads;
            t0 = System.nanoTime();
            try (Progress p = Progress.bytes("seq write, " + threads + " threads", part * threads)) {
                parallel(i -> writeRange(dir.resolve("big-" + i), buf, 0, part, true, p));
            }
            rows.add(new VfsBench.Row("seq write " + threads + " threads (fsync)", mibs(part * threads, t0), "MiB/s",
                    ddWrite, "dd write, conv=fsync"));
            Dd.dropCaches();
            t0 = System.nanoTime();
            try (Progress p = Progress.bytes("seq read, " + threads + " threads", part * threads)) {
                parallel(i -> readRange(dir.resolve("big-" + i), 0, part, p));
            }
            rows.add(new VfsBench.Row("seq read " + threads + " threads (cold)", mibs(part * threads, t0), "MiB/s",
                    ddRead, "dd read after drop_caches"));
            for (int i = 0; i < threads; i++) {
                Files.delete(dir.resolve("big-" + i));
            }

            byte[] small = new byte[smallBytes];
            new Random(2).nextBytes(small);
            t0 = System.nanoTime();
            try (Progress p = Progress.count("small files write", smallFiles, "files")) {
                for (int i = 0; i < smallFiles; i++) {
                    Files.write(dir.resolve("small-" + i), small);
                    p.step(1);
                }
            }
            rows.add(new VfsBench.Row("small files create+write (" + smallBytes / 1024 + " KiB)", ops(smallFiles, t0),
                    "files/s", null, null));
            Dd.dropCaches();
            t0 = System.nanoTime();
            try (Progress p = Progress.count("small files read", smallFiles, "files")) {
                for (int i = 0; i < smallFiles; i++) {
                    if (Files.readAllBytes(dir.resolve("small-" + i)).length != smallBytes) {
                        throw new IOException("short read of small-" + i);
                    }
                    p.step(1);
                }
            }
            rows.add(new VfsBench.Row("small files read (cold)", ops(smallFiles, t0), "files/s", null, null));
            t0 = System.nanoTime();
            for (int i = 0; i < smallFiles; i++) {
                Files.readAttributes(dir.resolve("small-" + i), "unix:size,mode,uid");
            }
            rows.add(new VfsBench.Row("small files stat", ops(smallFiles, t0), "files/s", null, null));
            t0 = System.nanoTime();
            for (int i = 0; i < smallFiles; i++) {
                Files.delete(dir.resolve("small-" + i));
            }
            rows.add(new VfsBench.Row("small files delete", ops(smallFiles, t0), "files/s", null, null));
        } finally {
            try (var s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
        VfsBench.print(rows, out);
        return rows;
    }

    @FunctionalInterface
    private interface Task {
        void run(int index) throws IOException;
    }

    private void parallel(Task task) throws IOException, InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                int index = i;
                fs.add(pool.submit(() -> {
                    task.run(index);
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } finally {
            pool.shutdown();
        }
    }

    private static void writeRange(Path file, byte[] buf, long from, long len, boolean fsync, Progress progress)
            throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            for (long off = 0; off < len; off += buf.length) {
                ByteBuffer b = ByteBuffer.wrap(buf, 0, (int) Math.min(buf.length, len - off));
                while (b.hasRemaining()) {
                    ch.write(b, from + off + b.position());
                }
                progress.step(b.limit());
            }
            if (fsync) {
                ch.force(true);
            }
        }
    }

    private static void readRange(Path file, long from, long len, Progress progress) throws IOException {
        // A direct buffer, as dd uses: the figure should be the mount's, not a heap copy's.
        ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
        long total = 0;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            int n;
            while ((n = ch.read(b, from + total)) > 0) {
                total += n;
                progress.step(n);
                b.clear();
            }
        }
        if (total != len) {
            throw new IOException(file + ": read " + total + " bytes, expected " + len);
        }
    }

    private static double mibs(long bytes, long t0) {
        return bytes / (double) (1 << 20) / ((System.nanoTime() - t0) / 1e9);
    }

    private static double ops(int n, long t0) {
        return n / ((System.nanoTime() - t0) / 1e9);
    }
}
