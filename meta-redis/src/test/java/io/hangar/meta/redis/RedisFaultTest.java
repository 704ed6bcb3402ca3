package io.hangar.meta.redis;

import io.hangar.testing.RedisServer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.fs.DirEntry;
import io.hangar.fs.Entry;
import io.hangar.fs.Errno;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.Slice;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Crashes of the server, racing clients in two JVMs, and an unreachable server. */
class RedisFaultTest {
    @TempDir
    Path tmp;

    /**
     * A client streams mutations while the server is killed with SIGKILL and restarted on its AOF. Every
     * acknowledged mutation must be there, the one in flight at the crash may or may not be, and the
     * namespace must check clean. The model tracks names: created files, renamed-away names, unlinked names,
     * and cloned trees (a clone is one script with many keys: it must be whole or absent).
     */
    @Test
    void killNineDuringMutationsLosesNothingAcknowledged() throws Exception {
        try (RedisServer server = RedisServer.start(tmp.resolve("redis"))) {
            String url = server.url(0) + "?prefix=crash";
            MetadataEngine m = new RedisMetadataEngineProvider().open(URI.create(url));
            m.format(RedisTestSupport.format("crash"));
            Entry tree = m.mknod(MetadataEngine.ROOT, "tree", FileType.DIRECTORY, 0755, 0, 0, 0, null);
            for (int i = 0; i < 20; i++) {
                Entry f = m.mknod(tree.inode(), "f" + i, FileType.FILE, 0644, 0, 0, 0, null);
                m.writeSlice(f.inode(), 0, new Slice(m.newSliceIds(1), 100, 0, 100, 0), 1);
            }
            Map<String, Boolean> expected = new HashMap<>();
            Set<String> uncertain = new HashSet<>();
            AtomicInteger acked = new AtomicInteger();
            AtomicInteger failures = new AtomicInteger();
            AtomicBoolean stop = new AtomicBoolean();
            ExecutorService writer = Executors.newSingleThreadExecutor();
            Future<?> stream = writer.submit(() -> {
                for (int i = 0; !stop.get(); i++) {
                    String name = "x" + i;
                    // One mutation per step; its names become uncertain if the call fails (outcome unknown).
                    int kind = i % 4;
                    List<String> touched = switch (kind) {
                        case 0, 1 -> List.of(name);
                        case 2 -> List.of("x" + (i - 2), "r" + i);
                        default -> List.of("c" + i);
                    };
                    try {
                        switch (kind) {
                            case 0, 1 -> m.mknod(MetadataEngine.ROOT, name, FileType.FILE, 0644, 0, 0, 0, null);
                            case 2 -> m.rename(MetadataEngine.ROOT, "x" + (i - 2), MetadataEngine.ROOT, "r" + i, 0);
                            default -> m.clone(tree.inode(), MetadataEngine.ROOT, "c" + i, 0, 0);
                        }
                        synchronized (expected) {
                            if (kind == 2) {
                                expected.put("x" + (i - 2), false);
                                expected.put("r" + i, true);
                            } else {
                                expected.put(touched.get(0), true);
                            }
                        }
                        acked.incrementAndGet();
                    } catch (FsException e) {
                        synchronized (expected) {
                            uncertain.addAll(touched);
                            // A rename whose source was itself uncertain may fail with ENOENT: that is a verdict.
                            if (e.errno() != Errno.ENOENT) {
                                failures.incrementAndGet();
                                assertTrue(e.transientFailure(), e.toString());
                            }
                        }
                        sleepQuietly(20);
                    }
                }
                return null;
            });
            awaitCount(acked, 150);
            server.kill9();
            awaitCount(failures, 3);
            server.restart();
            int after = acked.get();
            awaitCount(acked, after + 100);
            stop.set(true);
            stream.get(30, TimeUnit.SECONDS);
            writer.shutdown();

            Set<String> present = new HashSet<>();
            for (DirEntry e : readAll(m, MetadataEngine.ROOT)) {
                present.add(e.name());
            }
            synchronized (expected) {
                for (Map.Entry<String, Boolean> e : expected.entrySet()) {
                    if (!uncertain.contains(e.getKey())) {
                        assertEquals(e.getValue(), present.contains(e.getKey()), "acknowledged state of " + e.getKey());
                    }
                }
            }
            for (String name : present) {
                if (name.startsWith("c")) {
                    long ino = m.lookup(MetadataEngine.ROOT, name).inode();
                    assertEquals(20, readAll(m, ino).size(), "clone " + name + " is whole");
                }
            }
            assertEquals(List.of(), NamespaceCheck.run(m, server.port(), "{crash}"));
            m.close();
        }
    }

    /**
     * Two JVMs race on one directory with overlapping names. Every script is atomic on the server, so any
     * interleaving is some serial order of them: the invariants of a namespace must hold at the end.
     */
    @Test
    void twoJvmsMutatingOneDirectoryLeaveAValidNamespace() throws Exception {
        try (RedisServer server = RedisServer.start(tmp.resolve("redis"))) {
            String url = server.url(0) + "?prefix=race";
            try (MetadataEngine m = new RedisMetadataEngineProvider().open(URI.create(url))) {
                m.format(RedisTestSupport.format("race"));
                long dir = m.mknod(MetadataEngine.ROOT, "shared", FileType.DIRECTORY, 0755, 0, 0, 0, null).inode();
                String java = ProcessHandle.current().info().command().orElse("java");
                String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
                Process other = new ProcessBuilder(java, "-cp", cp, ConcurrentWorkload.class.getName(), url,
                        Long.toString(dir), "1500", "2").redirectErrorStream(true).start();
                // A second, independent pool in this JVM too: three clients in all.
                ExecutorService local = Executors.newFixedThreadPool(2);
                List<Future<Integer>> runs = new ArrayList<>();
                for (int seed = 0; seed < 2; seed++) {
                    long s = seed;
                    runs.add(local.submit(() -> {
                        try (MetadataEngine own = new RedisMetadataEngineProvider().open(URI.create(url))) {
                            return ConcurrentWorkload.run(own, dir, 1500, s);
                        }
                    }));
                }
                int applied = 0;
                for (Future<Integer> f : runs) {
                    applied += f.get(5, TimeUnit.MINUTES);
                }
                local.shutdown();
                String out = new String(other.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(other.waitFor(5, TimeUnit.MINUTES));
                assertEquals(0, other.exitValue(), out);
                assertTrue(out.contains("applied "), out);
                assertTrue(applied > 0);
                assertEquals(List.of(), NamespaceCheck.run(m, server.port(), "{race}"));
            }
        }
    }

    @Test
    void unreachableServerFailsClearlyAndRetryably() throws Exception {
        int port = RedisServer.freePort();
        FsException e = assertThrows(FsException.class,
                () -> new RedisMetadataEngineProvider().open(URI.create("redis://127.0.0.1:" + port + "/0")));
        assertEquals(Errno.EIO, e.errno());
        assertTrue(e.transientFailure());
        assertTrue(e.getMessage().contains("redis at 127.0.0.1:" + port + " unreachable"), e.getMessage());
    }

    @Test
    void callsDuringAnOutageFailRetryablyAndApplyNothing() throws Exception {
        try (RedisServer server = RedisServer.start(tmp.resolve("redis"))) {
            try (MetadataEngine m = new RedisMetadataEngineProvider().open(URI.create(server.url(0) + "?prefix=out"))) {
                m.format(RedisTestSupport.format("out"));
                Entry d = m.mknod(MetadataEngine.ROOT, "d", FileType.DIRECTORY, 0755, 0, 0, 0, null);
                m.mknod(d.inode(), "f", FileType.FILE, 0644, 0, 0, 0, null);
                server.close();
                FsException e = assertThrows(FsException.class,
                        () -> m.rename(d.inode(), "f", MetadataEngine.ROOT, "g", 0));
                assertTrue(e.transientFailure(), e.toString());
                assertTrue(e.getMessage().contains("redis at 127.0.0.1:" + server.port() + " unreachable"), e.getMessage());
                assertEquals(Errno.EIO, assertThrows(FsException.class, () -> m.getattr(MetadataEngine.ROOT)).errno());
                server.restart();
                assertEquals(List.of("f"), readAll(m, d.inode()).stream().map(DirEntry::name).toList());
                assertFalse(readAll(m, MetadataEngine.ROOT).stream().anyMatch(x -> x.name().equals("g")));
                m.rename(d.inode(), "f", MetadataEngine.ROOT, "g", 0);
                assertEquals(List.of(), NamespaceCheck.run(m, server.port(), "{out}"));
            }
        }
    }

    private static List<DirEntry> readAll(MetadataEngine m, long dir) throws FsException {
        List<DirEntry> all = new ArrayList<>();
        String after = null;
        while (true) {
            List<DirEntry> page = m.readdir(dir, after, 1000, false);
            if (page.isEmpty()) {
                return all;
            }
            all.addAll(page);
            after = page.get(page.size() - 1).name();
        }
    }

    private static void awaitCount(AtomicInteger n, int target) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (n.get() < target) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("count stuck at " + n.get() + ", waited for " + target);
            }
            Thread.sleep(5);
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
