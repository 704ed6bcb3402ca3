package io.hangar.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} for tests: its own loopback port and directory, AOF with fsync on every
 * write, stopped by pid. Never port 6379 and never a server the test did not start itself.
 */
public final class RedisServer implements AutoCloseable {
    private final Path dir;
    private final int port;
    private final List<String> command;
    private Process process;

    private RedisServer(Path dir, int port, List<String> command) {
        this.dir = dir;
        this.port = port;
        this.command = command;
    }

    /** Starts a durable standalone server in {@code dir} on a free port and waits until it answers PING. */
    public static RedisServer start(Path dir, String... extraArgs) throws IOException {
        int port = freePort();
        List<String> cmd = new ArrayList<>(List.of(binary(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--appendonly", "yes", "--appendfsync", "always", "--dir", dir.toString(), "--save", "",
                "--daemonize", "no", "--protected-mode", "no", "--aof-load-truncated", "yes"));
        cmd.addAll(List.of(extraArgs));
        RedisServer s = new RedisServer(dir, port, cmd);
        s.launch();
        return s;
    }

    /** Starts a Sentinel watching {@code master} on {@code masterPort} (quorum 1, fast failure detection). */
    public static RedisServer sentinel(Path dir, String master, int masterPort) throws IOException {
        int port = freePort();
        Files.createDirectories(dir);
        // Sentinel rewrites its configuration file, so it needs one of its own.
        Path conf = dir.resolve("sentinel.conf");
        Files.writeString(conf, String.join("\n",
                "port " + port, "bind 127.0.0.1", "protected-mode no", "dir " + dir,
                "sentinel monitor " + master + " 127.0.0.1 " + masterPort + " 1",
                "sentinel down-after-milliseconds " + master + " 1000",
                "sentinel failover-timeout " + master + " 5000", ""));
        RedisServer s = new RedisServer(dir, port, List.of(binary(), conf.toString(), "--sentinel"));
        s.launch();
        return s;
    }

    public static int freePort() throws IOException {
        while (true) {
            try (ServerSocket ss = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                int p = ss.getLocalPort();
                // Cluster nodes also bind port+10000 for their bus: keep that in range and free.
                if (p != 6379 && p + 10000 < 65536 && isFree(p + 10000)) {
                    return p;
                }
            }
        }
    }

    private static boolean isFree(int port) {
        try (ServerSocket ss = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private void launch() throws IOException {
        Files.createDirectories(dir);
        process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("redis.log").toFile())).start();
        awaitPing(port, process, dir.resolve("redis.log"));
    }

    /** The redis-server binary: {@code REDIS_SERVER} if set, else the one on PATH. */
    public static String binary() {
        String env = System.getenv("REDIS_SERVER");
        return env != null && !env.isEmpty() ? env : "redis-server";
    }

    public static void awaitPing(int port, Process process, Path log) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("redis-server on port " + port + " exited with " + process.exitValue()
                        + ":\n" + tail(log));
            }
            if ("+PONG".equals(command(port, "PING"))) {
                return;
            }
            sleep(50);
        }
        process.destroyForcibly();
        throw new IOException("redis-server on port " + port + " did not answer PING within 20 s:\n" + tail(log));
    }

    /** Sends one inline command and returns the first reply line, or null if the server cannot be reached. */
    public static String command(int port, String inline) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            s.setSoTimeout(2000);
            OutputStream out = s.getOutputStream();
            out.write((inline + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = s.getInputStream();
            StringBuilder line = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0 && c != '\n') {
                if (c != '\r') {
                    line.append((char) c);
                }
            }
            return line.toString();
        } catch (IOException e) {
            return null;
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public int port() {
        return port;
    }

    public String url(int db) {
        return "redis://127.0.0.1:" + port + "/" + db;
    }

    /** SIGKILL: no shutdown, no final fsync; what survives is what the AOF had acknowledged. */
    public void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** Starts the server again on the same port and directory (its AOF), after {@link #kill9} or {@link #close}. */
    public void restart() throws IOException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("redis-server on port " + port + " is still running");
        }
        launch();
    }

    /** Stops the server by pid (SIGTERM, then SIGKILL if it lingers). */
    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
