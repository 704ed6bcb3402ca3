package io.hangar.cli.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The physical limit, measured with {@code dd} on the same disk in the same run. */
final class Dd {
    private Dd() {
    }

    /** {@code dd if=/dev/zero bs=1M conv=fsync}: sequential write including the final flush to disk. */
    static double durableWriteMiBs(Path dir, long bytes) throws IOException, InterruptedException {
        Path f = dir.resolve("dd.bin");
        long t0 = System.nanoTime();
        run("dd", "if=/dev/zero", "of=" + f, "bs=1M", "count=" + (bytes >> 20), "conv=fsync");
        return (bytes / (double) (1 << 20)) / ((System.nanoTime() - t0) / 1e9);
    }

    /** {@code dd of=/dev/null bs=1M} after dropping the page cache. */
    static double coldReadMiBs(Path dir, long bytes) throws IOException, InterruptedException {
        dropCaches();
        return readMiBs(dir, bytes);
    }

    /** {@code dd of=/dev/null bs=1M} again, from the page cache; then removes the file. */
    static double cachedReadMiBs(Path dir, long bytes) throws IOException, InterruptedException {
        readMiBs(dir, bytes);
        double r = readMiBs(dir, bytes);
        Files.deleteIfExists(dir.resolve("dd.bin"));
        return r;
    }

    private static double readMiBs(Path dir, long bytes) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        run("dd", "if=" + dir.resolve("dd.bin"), "of=/dev/null", "bs=1M");
        return (bytes / (double) (1 << 20)) / ((System.nanoTime() - t0) / 1e9);
    }

    /** Drops the kernel page cache (root only; elsewhere reads may be warm, and the output says so). */
    static void dropCaches() throws IOException, InterruptedException {
        run("sync");
        try {
            Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "3\n");
        } catch (IOException e) {
            System.err.println("bench: cannot drop the page cache (" + e.getMessage() + "): cold reads may be warm");
        }
    }

    private static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed with exit code " + p.exitValue());
        }
    }
}
