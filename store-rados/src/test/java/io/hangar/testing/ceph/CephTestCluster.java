package io.hangar.testing.ceph;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real single-node Ceph cluster the chunk store tests run on, started once per test run by
 * {@code scripts/ceph-test-cluster.sh}. {@code ./test.sh} starts it before Maven and passes its env file in
 * {@code HANGAR_CEPH_ENV}; a cluster named there that is not up fails the test. A module run on its own
 * (no {@code HANGAR_CEPH_ENV}) uses the cluster in {@code <repo>/target/ceph-test} if it is up, or starts
 * it there and stops it when the JVM exits. A cluster that cannot be started fails, it is never skipped.
 */
public final class CephTestCluster {
    private static Map<String, String> env;

    private CephTestCluster() {
    }

    /** The cluster's env lines: CEPH_CONF, CEPH_KEYRING, CEPH_USER, RADOS_POOL, RGW_ENDPOINT, S3_* … */
    public static synchronized Map<String, String> env() throws IOException {
        if (env == null) {
            env = start();
        }
        return env;
    }

    public static String get(String name) throws IOException {
        String v = env().get(name);
        if (v == null) {
            throw new IllegalStateException("the Ceph test cluster's env has no " + name);
        }
        return v;
    }

    private static Map<String, String> start() throws IOException {
        Path top = top();
        Path script = top.resolve("scripts/ceph-test-cluster.sh");
        String given = System.getenv("HANGAR_CEPH_ENV");
        if (given != null && !given.isEmpty()) {
            Path file = Path.of(given);
            if (!Files.isRegularFile(file)) {
                throw new IllegalStateException("HANGAR_CEPH_ENV names " + file + ", which does not exist: the Ceph "
                        + "test cluster test.sh should have started is not up");
            }
            Map<String, String> e = parse(file);
            run(script, "status", e.get("CEPH_TEST_DIR"));
            return e;
        }
        Path dir = top.resolve("target/ceph-test");
        Files.createDirectories(dir);
        boolean wasUp = exec(List.of(script.toString(), "status", dir.toString()), 30).exit == 0;
        if (!wasUp) {
            run(script, "up", dir.toString());
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    exec(List.of(script.toString(), "down", dir.toString()), 120);
                } catch (IOException e) {
                    System.err.println("ceph-test-cluster down " + dir + ": " + e);
                }
            }, "ceph-test-cluster-down"));
        }
        return parse(dir.resolve("env"));
    }

    /**
     * Fault injection: {@code stop-osd}, {@code start-osd}, {@code stop-rgw} or {@code start-rgw} on the test
     * cluster (a start waits until the daemon serves again).
     */
    public static void daemon(String command) throws IOException {
        run(top().resolve("scripts/ceph-test-cluster.sh"), command, get("CEPH_TEST_DIR"));
    }

    private static Path top() {
        String t = System.getenv("HANGAR_TOP");
        Path p = t != null && !t.isEmpty() ? Path.of(t) : Path.of(System.getProperty("user.dir")).getParent();
        return p.toAbsolutePath().normalize();
    }

    private static void run(Path script, String cmd, String dir) throws IOException {
        Result r = exec(List.of(script.toString(), cmd, dir), 600);
        if (r.exit != 0) {
            throw new IllegalStateException("scripts/ceph-test-cluster.sh " + cmd + " " + dir + " failed (exit "
                    + r.exit + "):\n" + r.output);
        }
    }

    private record Result(int exit, String output) {
    }

    private static Result exec(List<String> cmd, int limitSeconds) throws IOException {
        Path log = Files.createTempFile("ceph-test-cluster", ".log");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean done = p.waitFor(limitSeconds, TimeUnit.SECONDS);
            if (!done) {
                p.destroy();
                p.waitFor(10, TimeUnit.SECONDS);
                return new Result(124, "timed out after " + limitSeconds + " s\n" + Files.readString(log));
            }
            return new Result(p.exitValue(), Files.readString(log));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted running " + cmd, e);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static Map<String, String> parse(Path file) throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file)) {
            int eq = line.indexOf('=');
            if (eq > 0 && !line.startsWith("#")) {
                m.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
            }
        }
        return m;
    }
}
