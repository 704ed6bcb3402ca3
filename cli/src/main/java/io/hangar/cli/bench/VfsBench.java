package io.hangar.cli.bench;

import io.hangar.cli.Progress;
import io.hangar.fs.Caller;
import io.hangar.fs.Entry;
import io.hangar.fs.FsException;
import io.hangar.fs.OpenFlags;
import io.hangar.vfs.FileHandle;
import io.hangar.vfs.Volume;
import io.hangar.vfs.standalone.OpenVolume;
import io.hangar.vfs.standalone.Volumes;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * {@code hangar bench <meta-url>}: like {@code juicefs bench}, through the VFS in-process. One big file
 * written and read with 1 MiB I/O, many small files written, read and stat'ed; printed next to {@code dd}
 * on the disk that holds the chunk store (or {@code --dd-dir}), measured in the same run.
 */
public final class VfsBench {
    private final String metaUrl;
    private final long bigBytes;
    private final int smallFiles;
    private final int smallBytes;
    private final Path ddDir;
    private final PrintStream out;
    private final Map<String, String> options;

    public VfsBench(String metaUrl, long bigBytes, int smallFiles, int smallBytes, Path ddDir,
            Map<String, String> options, PrintStream out) {
        this.metaUrl = metaUrl;
        this.bigBytes = bigBytes;
        this.smallFiles = smallFiles;
        this.smallBytes = smallBytes;
        this.ddDir = ddDir;
        this.options = options;
        this.out = out;
    }

    /** One measured figure. */
    public record Row(String what, double value, String unit, Double reference, String referenceName) {
    }

    public List<Row> run() throws IOException, InterruptedException {
        List<Row> rows = new ArrayList<>();
        Path dd = ddDir != null ? ddDir : storeDirectory();
        Files.createDirectories(dd);
        double ddWrite = Dd.durableWriteMiBs(dd, bigBytes);
        double ddRead = Dd.coldReadMiBs(dd, bigBytes);
        Dd.cachedReadMiBs(dd, bigBytes);
        String dir = "/.bench-" + ProcessHandle.current().pid();
        byte[] buf = new byte[1 << 20];
        new Random(1).nextBytes(buf);
        long bigIno;
        Entry d;
        try (OpenVolume v = Volumes.open(metaUrl, options)) {
            d = v.mkdir(Caller.ROOT, Volume.ROOT, dir.substring(1), 0755);
            long t0 = System.nanoTime();
            try (FileHandle h = v.create(Caller.ROOT, d.inode(), "big", 0644, OpenFlags.WRONLY);
                    Progress p = Progress.bytes("big file write", bigBytes)) {
                bigIno = h.inode();
                for (long off = 0; off < bigBytes; off += buf.length) {
                    int n = (int) Math.min(buf.length, bigBytes - off);
                    h.write(off, buf, 0, n);
                    p.step(n);
                }
            }
            double s = seconds(t0);
            rows.add(new Row("big file write (1 MiB I/O, durable)", mib(bigBytes) / s, "MiB/s", ddWrite,
                    "dd write, conv=fsync"));
        }
        Dd.dropCaches();
        try (OpenVolume v = Volumes.open(metaUrl, options)) {
            long t0 = System.nanoTime();
            try (FileHandle h = v.open(Caller.ROOT, bigIno, OpenFlags.RDONLY);
                    Progress p = Progress.bytes("big file read", bigBytes)) {
                long off = 0;
                int n;
                while ((n = h.read(off, buf, 0, buf.length)) > 0) {
                    off += n;
                    p.step(n);
                }
                if (off != bigBytes) {
                    throw new IOException("big file read back " + off + " bytes of " + bigBytes);
                }
            }
            double s = seconds(t0);
            rows.add(new Row("big file read (1 MiB I/O, cold)", mib(bigBytes) / s, "MiB/s", ddRead,
                    "dd read after drop_caches"));

            byte[] small = new byte[smallBytes];
            new Random(2).nextBytes(small);
            long[] inos = new long[smallFiles];
            t0 = System.nanoTime();
            try (Progress p = Progress.count("small files write", smallFiles, "files")) {
                for (int i = 0; i < smallFiles; i++) {
                    try (FileHandle h = v.create(Caller.ROOT, d.inode(), "small-" + i, 0644, OpenFlags.WRONLY)) {
                        h.write(0, small, 0, small.length);
                        inos[i] = h.inode();
                    }
                    p.step(1);
                }
            }
            s = seconds(t0);
            rows.add(new Row("small files write (" + smallBytes / 1024 + " KiB)", smallFiles / s, "files/s",
                    null, null));
            rows.add(new Row("small files write throughput", mib((long) smallFiles * smallBytes) / s, "MiB/s",
                    null, null));
            t0 = System.nanoTime();
            try (Progress p = Progress.count("small files read", smallFiles, "files")) {
                for (long ino : inos) {
                    try (FileHandle h = v.open(Caller.ROOT, ino, OpenFlags.RDONLY)) {
                        if (h.read(0, small, 0, small.length) != small.length) {
                            throw new IOException("short read of a small file");
                        }
                    }
                    p.step(1);
                }
            }
            s = seconds(t0);
            rows.add(new Row("small files read", smallFiles / s, "files/s", null, null));
            t0 = System.nanoTime();
            for (int round = 0; round < 10; round++) {
                for (int i = 0; i < smallFiles; i++) {
                    v.lookup(d.inode(), "small-" + i);
                }
            }
            s = seconds(t0);
            rows.add(new Row("stat (lookup + getattr)", 10.0 * smallFiles / s, "ops/s", null, null));
            cleanup(v, d.inode(), dir.substring(1));
        }
        print(rows, out);
        return rows;
    }

    private void cleanup(Volume v, long dirIno, String name) throws FsException {
        String after = null;
        while (true) {
            var page = v.readdir(dirIno, after, 1000, false);
            if (page.isEmpty()) {
                break;
            }
            for (var e : page) {
                v.unlink(Caller.ROOT, dirIno, e.name());
                after = e.name();
            }
        }
        v.rmdir(Caller.ROOT, Volume.ROOT, name);
    }

    private Path storeDirectory() throws FsException {
        String storage = Volumes.status(metaUrl).storage();
        if (storage.startsWith("file://")) {
            return Path.of(java.net.URI.create(storage).getPath(), ".bench-dd");
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "hangar-bench-dd");
    }

    /** The table every benchmark prints: measured value, the physical reference, and their ratio. */
    static void print(List<Row> rows, PrintStream out) {
        out.printf("%-40s %12s %-8s %12s  %s%n", "benchmark", "hangar", "unit", "reference", "ratio");
        for (Row r : rows) {
            if (r.reference() == null) {
                out.printf("%-40s %12.1f %-8s %12s  %s%n", r.what(), r.value(), r.unit(), "-", "-");
            } else {
                out.printf("%-40s %12.1f %-8s %12.1f  %.0f%% of %s%n", r.what(), r.value(), r.unit(), r.reference(),
                        100 * r.value() / r.reference(), r.referenceName());
            }
        }
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static double mib(long bytes) {
        return bytes / (double) (1 << 20);
    }
}
