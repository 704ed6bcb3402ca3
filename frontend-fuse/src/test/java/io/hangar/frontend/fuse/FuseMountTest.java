package io.hangar.frontend.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.hangar.frontend.fuse.lowlevel.Fuse3;
import io.hangar.frontend.fuse.setup.FuseSetup;
import io.hangar.fs.Caller;
import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.fs.OpenFlags;
import io.hangar.spi.frontend.Endpoint;
import io.hangar.vfs.FileHandle;
import io.hangar.vfs.Volume;
import io.hangar.vfs.standalone.OpenVolume;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mount's life on real FUSE mounts: start, refusals, every way it ends. Needs root, a usable /dev/fuse,
 * libfuse3.so.3 and fusermount3; without one of them every test fails saying which is missing (never a skip:
 * a skipped mount test would let a run go green with the FUSE front end untested).
 */
class FuseMountTest {
    @TempDir
    Path tmp;
    protected OpenVolume volume;
    private FuseFrontend frontend;

    @BeforeAll
    static void fuseUsable() throws IOException {
        Path device = Path.of("/dev/fuse");
        if (!Files.exists(device)) {
            fail("FUSE prerequisite missing: /dev/fuse does not exist (no FUSE in this kernel or container)");
        }
        int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        if (uid != 0) {
            fail("FUSE prerequisite missing: the mount tests need root, this is uid " + uid);
        }
        try (FileChannel c = FileChannel.open(device, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            // Opening is the test: permissions and container device rules show here.
        } catch (IOException e) {
            fail("FUSE prerequisite missing: /dev/fuse cannot be opened read-write (" + e + ")");
        }
        if (Fuse3.find().isEmpty()) {
            fail("FUSE prerequisite missing: " + Fuse3.NAME + " is neither in the loader's cache (ldconfig -p) nor "
                    + "in a library directory (" + SharedLibraries.DIRS + ") (" + FuseSetup.INSTALL_COMMAND + ")");
        }
        if (FuseSetup.fusermount().isEmpty()) {
            fail("FUSE prerequisite missing: no " + FuseSetup.FUSERMOUNT + " (" + FuseSetup.INSTALL_COMMAND + ")");
        }
    }

    @BeforeEach
    void open() throws Exception {
        volume = TestVolumes.create(tmp.resolve("volume"), "lifecycle");
        frontend = new FuseFrontend();
    }

    @AfterEach
    void close() throws Exception {
        frontend.stop();
        volume.close();
    }

    protected Path dir(String name) throws IOException {
        return Files.createDirectories(tmp.resolve(name));
    }

    /** Options every mount of the test gets: none here (the defaults: 1 s attribute and entry caching). */
    protected Map<String, String> frontendOptions() {
        return Map.of();
    }

    protected Endpoint mount(Path mp, String... options) throws FsException {
        Map<String, String> o = new HashMap<>(frontendOptions());
        o.put(MountSpec.MOUNTPOINT, mp.toString());
        for (int i = 0; i < options.length; i += 2) {
            o.put(options[i], options[i + 1]);
        }
        return frontend.start(volume, o);
    }

    private Errno refused(Path mp, String... options) {
        return assertThrows(FsException.class, () -> mount(mp, options)).errno();
    }

    private static int run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor();
    }

    @Test
    void mountsServesAndUnmountsOnClose() throws Exception {
        Path mp = dir("mnt");
        Endpoint e = mount(mp);
        assertTrue(Mounts.isMountPoint(mp.toRealPath()));
        assertEquals(java.util.List.of(e), frontend.endpoints());
        assertEquals("fuse", e.kind());
        assertEquals("lifecycle", e.volume());
        Files.writeString(mp.resolve("hello.txt"), "through the kernel");
        assertEquals("through the kernel", Files.readString(mp.resolve("hello.txt")));
        e.close();
        assertFalse(Mounts.isMountPoint(mp.toRealPath()), "unmounted");
        assertFalse(e.active());
        e.ended().toCompletableFuture().get(1, TimeUnit.SECONDS);
        assertTrue(frontend.endpoints().isEmpty());
        assertEquals(18, volume.resolve("/hello.txt").attr().length(), "the data is in the volume");
        e.close();
    }

    @Test
    void anUnmountFromOutsideEndsTheEndpoint() throws Exception {
        Path mp = dir("mnt");
        Endpoint e = mount(mp);
        Files.writeString(mp.resolve("f"), "x");
        assertEquals(0, run(Mounts.fusermount(), "-u", mp.toString()));
        e.ended().toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertFalse(e.active());
        assertTrue(frontend.endpoints().isEmpty());
        Endpoint again = mount(mp);
        assertEquals("x", Files.readString(mp.resolve("f")), "the same mount point serves again");
        again.close();
    }

    @Test
    void closingABusyMountDetachesItAndCommitsWhatWasWritten() throws Exception {
        Path mp = dir("mnt");
        Endpoint e = mount(mp);
        byte[] data = new byte[3 << 20];
        new java.util.Random(1).nextBytes(data);
        FileChannel ch = FileChannel.open(mp.resolve("open.bin"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        ch.write(ByteBuffer.wrap(data));
        e.close();
        assertFalse(Mounts.isMountPoint(mp.toRealPath()), "detached although a file was open");
        assertThrows(IOException.class, () -> ch.write(ByteBuffer.wrap(data)), "its user gets errors now");
        try {
            ch.close();
        } catch (IOException expected) {
            // The connection is gone; closing reports it.
        }
        assertEquals(data.length, volume.resolve("/open.bin").attr().length(), "buffered writes were committed");
        byte[] back = new byte[data.length];
        try (FileHandle h = volume.open(Caller.ROOT, volume.resolve("/open.bin").inode(), OpenFlags.RDONLY)) {
            int n = 0;
            while (n < back.length) {
                n += h.read(n, back, n, back.length - n);
            }
        }
        assertArrayEquals(data, back);
    }

    @Test
    void unusableMountPointsAndSubdirsAreRefused() throws Exception {
        assertEquals(Errno.ENOENT, refused(tmp.resolve("missing")));
        Path file = Files.writeString(tmp.resolve("file"), "x");
        assertEquals(Errno.ENOTDIR, refused(file));
        Path full = dir("full");
        Files.writeString(full.resolve("something"), "x");
        assertEquals(Errno.ENOTEMPTY, refused(full));
        Path mp = dir("mnt");
        assertEquals(Errno.ENOENT, refused(mp, "subdir", "/no/such/dir"));
        volume.create(Caller.ROOT, Volume.ROOT, "plain", 0644, OpenFlags.WRONLY).close();
        assertEquals(Errno.ENOTDIR, refused(mp, "subdir", "/plain"));
        assertEquals(Errno.EINVAL, refused(mp, "readOnly", "maybe"));
        Endpoint e = mount(mp);
        assertEquals(Errno.EBUSY, refused(mp), "already mounted");
        e.close();
        assertTrue(frontend.endpoints().isEmpty(), "no refused attempt left anything running");
    }

    @Test
    void readOnlySubdirMount() throws Exception {
        long team = volume.mkdir(Caller.ROOT, Volume.ROOT, "team", 0755).inode();
        try (FileHandle h = volume.create(Caller.ROOT, team, "model.bin", 0644, OpenFlags.WRONLY)) {
            h.write(0, "weights".getBytes(StandardCharsets.UTF_8), 0, 7);
        }
        Path mp = dir("ro");
        Endpoint e = mount(mp, "readOnly", "true", "subdir", "/team");
        assertTrue(e.readOnly());
        assertEquals("/team", e.subdir());
        assertEquals("weights", Files.readString(mp.resolve("model.bin")));
        FileSystemException ex = assertThrows(FileSystemException.class,
                () -> Files.writeString(mp.resolve("new"), "x"));
        assertTrue(String.valueOf(ex.getReason()).contains("Read-only"), ex.toString());
        e.close();
    }

    @Test
    void twoMountsOfOneVolumeShareTheirLocks() throws Exception {
        Path a = dir("a");
        Path b = dir("b");
        Endpoint ea = mount(a);
        Endpoint eb = mount(b);
        Files.writeString(a.resolve("locked"), "x");
        try (FileChannel ca = FileChannel.open(a.resolve("locked"), StandardOpenOption.WRITE);
                FileChannel cb = FileChannel.open(b.resolve("locked"), StandardOpenOption.WRITE)) {
            FileLock held = ca.lock();
            assertNotNull(held);
            assertNull(cb.tryLock(), "the other mount sees the lock");
            held.release();
            FileLock got = cb.tryLock();
            assertNotNull(got, "free once released");
            got.release();
        }
        ea.close();
        eb.close();
    }
}
