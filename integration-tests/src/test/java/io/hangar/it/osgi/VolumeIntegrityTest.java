package io.hangar.it.osgi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.fs.Caller;
import io.hangar.fs.OpenFlags;
import io.hangar.fs.SetAttr;
import io.hangar.vfs.FileHandle;
import io.hangar.vfs.Volume;
import io.hangar.vfs.VolumeService;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import io.hangar.testing.RedisServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.util.tracker.ServiceTracker;

/**
 * In a real framework with the assembled bundles: a volume configured through Configuration Admin takes a
 * 512 MiB file with random overwrites and truncates, survives its chunk store bundle being stopped and
 * started in the middle, and reads back byte-exact (SHA-256 against a reference file on local disk). Runs on
 * the embedded SQLite engine and on a real redis-server the test starts itself.
 */
public class VolumeIntegrityTest {
    private static final long SIZE = 512L << 20;

    @InjectBundleContext
    BundleContext context;

    @InjectService
    ConfigurationAdmin configAdmin;

    private Configuration config;
    private RedisServer redis;
    private Volume volume;

    @AfterEach
    void removeVolume() throws Exception {
        if (config != null) {
            config.delete();
            awaitUnregistered();
        }
        if (redis != null) {
            redis.close();
        }
    }

    /** Waits until the volume has closed (its session ended) before the test takes its server away. */
    private void awaitUnregistered() throws Exception {
        for (int i = 0; i < 600 && (context.getServiceReferences(Volume.class, "(volume.name=integrity)").size() > 0
                || volume != null && !volume.state().equals("closed")); i++) {
            Thread.sleep(100);
        }
    }

    private String metaUrl(String engine, Path work) throws Exception {
        if (engine.equals("redis")) {
            redis = RedisServer.start(Files.createDirectories(work.resolve("redis")));
            return redis.url(1);
        }
        return "sqlite://" + work.resolve("meta.db");
    }

    private Volume openVolume(String name, String metaUrl, Path work) throws Exception {
        config = configAdmin.createFactoryConfiguration("io.hangar.volume", "?");
        Dictionary<String, Object> p = new Hashtable<>();
        p.put("name", name);
        p.put("meta", metaUrl);
        p.put("storage", "file://" + work.resolve("chunks"));
        p.put("bufferSize", "128M");
        config.update(p);
        ServiceTracker<Volume, Volume> t = new ServiceTracker<>(context,
                context.createFilter("(&(objectClass=" + Volume.class.getName() + ")(volume.name=" + name + "))"),
                null);
        t.open();
        Volume v = t.waitForService(60_000);
        assertNotNull(v, "volume " + name + " was not registered");
        volume = v;
        return v;
    }

    private Bundle bundle(String bsn) {
        return Arrays.stream(context.getBundles()).filter(b -> bsn.equals(b.getSymbolicName())).findFirst()
                .orElseThrow(() -> new AssertionError("bundle " + bsn + " is not installed"));
    }

    @ParameterizedTest(name = "on {0}")
    @ValueSource(strings = {"sqlite", "redis"})
    public void bigFileWithOverwritesAndTruncatesSurvivesAStoreBundleRestart(String engine) throws Exception {
        Path work = Path.of(context.getProperty("hangar.it.work"), engine + "-" + System.nanoTime());
        Files.createDirectories(work);
        Volume v = openVolume("integrity", metaUrl(engine, work), work);
        Path refPath = work.resolve("reference.bin");
        SplittableRandom rnd = new SplittableRandom(2026);
        byte[] buf = new byte[8 << 20];
        try (RandomAccessFile ref = new RandomAccessFile(refPath.toFile(), "rw")) {
            FileHandle h = v.create(Caller.ROOT, Volume.ROOT, "checkpoint.pt", 0644, OpenFlags.RDWR);
            long ino = h.inode();
            for (long off = 0; off < SIZE; off += 1 << 20) {
                fill(rnd, buf, 1 << 20);
                h.write(off, buf, 0, 1 << 20);
                ref.seek(off);
                ref.write(buf, 0, 1 << 20);
            }
            CountDownLatch halfway = new CountDownLatch(1);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    long length = SIZE;
                    for (int op = 0; op < 400; op++) {
                        if (op == 150) {
                            halfway.countDown();
                        }
                        int kind = rnd.nextInt(100);
                        if (kind < 85) {
                            long off = rnd.nextLong(length + (1 << 20));
                            int len = 1 + rnd.nextInt(kind < 10 ? 8 << 20 : 64 << 10);
                            fill(rnd, buf, len);
                            h.write(off, buf, 0, len);
                            ref.seek(off);
                            ref.write(buf, 0, len);
                            length = Math.max(length, off + len);
                        } else {
                            long to = (SIZE / 2) + rnd.nextLong(SIZE);
                            v.setattr(Caller.ROOT, ino, SetAttr.size(to));
                            ref.setLength(to);
                            length = to;
                        }
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            assertTrue(halfway.await(5, TimeUnit.MINUTES), "writer did not get going");
            Bundle store = bundle("io.hangar.store.file");
            store.stop();
            assertFalse(v.available(), "volume must report its store gone");
            assertTrue(v.state().contains("unavailable"), v.state());
            Thread.sleep(2000);
            store.start();
            writer.get(10, TimeUnit.MINUTES);
            assertTrue(v.available(), "volume must resume once the store is back: " + v.state());
            h.close();
            assertEquals(ref.length(), v.getattr(ino).length(), "file length");
        }
        byte[] expected = sha256(refPath);
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        Volume again = context.getService(context.getServiceReference(VolumeService.class)).volume("integrity")
                .orElseThrow();
        long ino = again.resolve("/checkpoint.pt").inode();
        long length = again.getattr(ino).length();
        try (FileHandle r = again.open(Caller.ROOT, ino, OpenFlags.RDONLY)) {
            for (long off = 0; off < length;) {
                int n = r.read(off, buf, 0, (int) Math.min(buf.length, length - off));
                assertTrue(n > 0, "short read at " + off);
                md.update(buf, 0, n);
                off += n;
            }
        }
        assertArrayEquals(expected, md.digest(), "SHA-256 of the volume's file and the reference differ");
    }

    private static void fill(SplittableRandom rnd, byte[] b, int len) {
        for (int i = 0; i < len; i += 8) {
            long x = rnd.nextLong();
            for (int k = 0; k < 8 && i + k < len; k++) {
                b[i + k] = (byte) (x >>> (k * 8));
            }
        }
    }

    private static byte[] sha256(Path p) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] b = new byte[1 << 20];
        try (var in = Files.newInputStream(p)) {
            int n;
            while ((n = in.read(b)) > 0) {
                md.update(b, 0, n);
            }
        }
        return md.digest();
    }
}
