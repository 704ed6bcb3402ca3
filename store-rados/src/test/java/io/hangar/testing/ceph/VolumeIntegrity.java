package io.hangar.testing.ceph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.fs.Caller;
import io.hangar.fs.OpenFlags;
import io.hangar.fs.SetAttr;
import io.hangar.fsck.FsckReport;
import io.hangar.fsck.VolumeCheck;
import io.hangar.vfs.FileHandle;
import io.hangar.vfs.Volume;
import io.hangar.vfs.standalone.OpenVolume;
import io.hangar.vfs.standalone.Volumes;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The volume integrity check every real chunk store runs: a volume with SQLite metadata formatted on the
 * store, a file written, overwritten at random and truncated (down across block boundaries, then up through
 * a hole), read back through a fresh volume and compared by SHA-256 with a reference kept in memory, then a
 * fsck that must be clean (every block present with its length, nothing leaked).
 */
public final class VolumeIntegrity {
    private VolumeIntegrity() {
    }

    /** Runs the check on a store URL naming a fresh, empty namespace; {@code dir} holds the SQLite file. */
    public static void run(Path dir, String storeUrl) throws Exception {
        String meta = "sqlite://" + dir.resolve("meta.db");
        Volumes.format(meta, "it", storeUrl, Map.of());
        // No background compaction: closing a volume while one runs leaks the blocks it had written (the VFS
        // stops its pools with shutdownNow and the compaction does not clean up), which fsck rightly reports.
        Map<String, String> opts = Map.of("buffer-size", "64M", "cache-size", "0", "compact-threshold", "100000");
        int size = 24 << 20; // six 4 MiB blocks
        byte[] ref = new byte[size];
        Random r = new Random(9);
        r.nextBytes(ref);
        long length;
        try (OpenVolume v = Volumes.open(meta, opts)) {
            long ino;
            try (FileHandle h = v.create(Caller.ROOT, Volume.ROOT, "f", 0644, OpenFlags.RDWR | OpenFlags.TRUNC)) {
                ino = h.inode();
                for (int off = 0; off < size; off += 1 << 20) { // sequential 1 MiB writes
                    h.write(off, ref, off, 1 << 20);
                }
                h.fsync();
                for (int i = 0; i < 40; i++) { // random overwrites, some across block boundaries
                    int len = 1 + r.nextInt(300_000);
                    int off = r.nextInt(size - len);
                    byte[] d = new byte[len];
                    r.nextBytes(d);
                    h.write(off, d, 0, len);
                    System.arraycopy(d, 0, ref, off, len);
                }
                h.fsync();
            }
            // down to 10 MiB + 7 (the third block cut), then up to 20 MiB: a hole of zeros
            v.setattr(Caller.ROOT, ino, SetAttr.size((10 << 20) + 7));
            Arrays.fill(ref, (10 << 20) + 7, size, (byte) 0);
            v.setattr(Caller.ROOT, ino, SetAttr.size(20 << 20));
            length = 20 << 20;
            try (FileHandle h = v.open(Caller.ROOT, ino, OpenFlags.RDWR)) { // and a write past the hole
                byte[] d = new byte[100_000];
                r.nextBytes(d);
                h.write(15 << 20, d, 0, d.length);
                System.arraycopy(d, 0, ref, 15 << 20, d.length);
                h.fsync();
            }
        }
        byte[] want = Arrays.copyOf(ref, (int) length);
        try (OpenVolume v = Volumes.open(meta, opts)) { // a fresh client: nothing from the first one's caches
            long ino = v.resolve("/f").inode();
            assertEquals(length, v.getattr(ino).length());
            byte[] got = new byte[(int) length];
            try (FileHandle h = v.open(Caller.ROOT, ino, OpenFlags.RDONLY)) {
                int off = 0;
                while (off < got.length) {
                    int n = h.read(off, got, off, Math.min(3 << 20, got.length - off));
                    assertTrue(n > 0, "short read at " + off);
                    off += n;
                }
            }
            assertEquals(sha256(want), sha256(got), "SHA-256 of the file read back through a fresh volume");
            assertArrayEquals(want, got);
        }
        List<String> lines = new ArrayList<>();
        try (VolumeCheck c = Volumes.check(meta)) {
            FsckReport rep = c.fsck(false, lines::add);
            assertTrue(rep.clean(), "fsck not clean: " + rep + " " + lines);
            assertTrue(rep.blocks() > 0, "fsck saw no blocks: " + rep);
        }
    }

    /**
     * A write stream that rides out a fault: {@code fault} runs (on another thread) once the first 8 MiB of
     * a 40 MiB file are acknowledged by fsync, while 1 MiB writes and an fsync every 4 MiB go on; every
     * write and fsync must succeed (the VFS waits for the store), then the file reads back whole through a
     * fresh volume and fsck is clean.
     */
    public static void writeThrough(Path dir, String storeUrl, Fault fault) throws Exception {
        String meta = "sqlite://" + dir.resolve("meta.db");
        Volumes.format(meta, "fault", storeUrl, Map.of());
        Map<String, String> opts = Map.of("buffer-size", "32M", "cache-size", "0", "compact-threshold", "100000");
        int size = 40 << 20;
        byte[] ref = new byte[size];
        new Random(11).nextBytes(ref);
        Thread injector = null;
        Exception[] injected = new Exception[1];
        try (OpenVolume v = Volumes.open(meta, opts)) {
            try (FileHandle h = v.create(Caller.ROOT, Volume.ROOT, "stream", 0644, OpenFlags.RDWR | OpenFlags.TRUNC)) {
                for (int off = 0; off < size; off += 1 << 20) {
                    h.write(off, ref, off, 1 << 20);
                    if ((off + (1 << 20)) % (4 << 20) == 0) {
                        h.fsync();
                    }
                    if (off + (1 << 20) == 8 << 20) {
                        injector = new Thread(() -> {
                            try {
                                fault.run();
                            } catch (Exception e) {
                                injected[0] = e;
                            }
                        }, "fault");
                        injector.start();
                    }
                }
                h.fsync();
            }
        } finally {
            if (injector != null) {
                injector.join();
            }
        }
        if (injected[0] != null) {
            throw injected[0];
        }
        try (OpenVolume v = Volumes.open(meta, opts)) {
            long ino = v.resolve("/stream").inode();
            byte[] got = new byte[size];
            try (FileHandle h = v.open(Caller.ROOT, ino, OpenFlags.RDONLY)) {
                for (int off = 0; off < size;) {
                    int n = h.read(off, got, off, Math.min(4 << 20, size - off));
                    assertTrue(n > 0, "short read at " + off);
                    off += n;
                }
            }
            assertEquals(sha256(ref), sha256(got), "SHA-256 of the stream written across the fault");
        }
        List<String> lines = new ArrayList<>();
        try (VolumeCheck c = Volumes.check(meta)) {
            FsckReport rep = c.fsck(false, lines::add);
            assertTrue(rep.clean(), "fsck not clean after the fault: " + rep + " " + lines);
        }
    }

    /** What a fault test does to the cluster while the stream runs. */
    @FunctionalInterface
    public interface Fault {
        void run() throws Exception;
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
