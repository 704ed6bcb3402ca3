package io.hangar.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * Starts the Felix runtime (cnf/target/hangar.jar) as a child JVM on an etc/ folder and a home folder, and
 * watches it: {@code <home>/run/<volume>.ready} appears once platform-core serves a volume, a FUSE mount
 * shows in /proc/mounts.
 */
final class RuntimeLauncher {
    /** Set by ./hangar: the runnable jar built from cnf/hangar.bndrun. */
    static final String JAR_PROPERTY = "hangar.runtime.jar";
    /** Extra JVM options for the runtime, e.g. -Xmx4g. */
    static final String OPTS_ENV = "HANGAR_RUNTIME_OPTS";
    private static final long POLL_MS = 200;
    /** Stops a foreground runtime when this process is stopped (Ctrl-C, SIGTERM). */
    private Thread stopper;
    static final String LOGGING = "logging.properties";
    private static final String LOGGING_DEFAULTS = """
            # java.util.logging for the runtime: platform-core, the engines and (through slf4j) Jetty, the web
            # console and Jedis log here. FileInstall ignores this file (it reads *.cfg and *.config only).
            handlers = java.util.logging.ConsoleHandler
            .level = INFO
            java.util.logging.ConsoleHandler.level = ALL
            java.util.logging.SimpleFormatter.format = %1$tF %1$tT %4$s [%3$s] %5$s%6$s%n
            # Chatty at INFO about every service provider, connector and optional plugin.
            org.apache.aries.spifly.level = WARNING
            org.eclipse.jetty.level = WARNING
            org.apache.felix.webconsole.level = WARNING
            # Warns once per component that a registry joined after its meters: that is how MeterGroup works
            # (docs/metrics.md), not a mistake.
            io.micrometer.core.instrument.composite.CompositeMeterRegistry.level = SEVERE
            """;

    private final Path home;
    private final Path etc;
    private final List<String> extraProperties = new ArrayList<>();
    private final List<String> memory = new ArrayList<>();

    RuntimeLauncher(Path home, Path etc) {
        this.home = home;
        this.etc = etc;
    }

    /** Adds a -Dkey=value for the runtime (framework properties fall back to system properties). */
    RuntimeLauncher property(String key, String value) {
        extraProperties.add("-D" + key + "=" + value);
        return this;
    }

    /**
     * Sizes the runtime's JVM for a volume whose buffers, read-ahead and cache take {@code dataBytes}
     * ({@link #dataMemory}), instead of the JVM's default of a quarter of the machine: a mount in a pod with a
     * memory limit must not be killed for memory it was never told about. Block data lives in native memory
     * (direct buffers), so the direct limit is the data plus {@value #DIRECT_SLACK_MIB} MiB for blocks in
     * flight, free blocks kept for reuse and FUSE reply buffers; the heap holds only the framework, metadata
     * and bookkeeping ({@value #HEAP_MIB} MiB; more for a disk cache's index, {@link #memoryFor(long, long)}).
     * HANGAR_RUNTIME_OPTS with its own -Xmx wins.
     */
    RuntimeLauncher memoryFor(long dataBytes) {
        return memoryFor(dataBytes, 0);
    }

    /** As {@link #memoryFor(long)}, with {@code indexBytes} more heap for a disk cache's index. */
    RuntimeLauncher memoryFor(long dataBytes, long indexBytes) {
        memory.clear();
        // The JVM would start with a heap of 1/64 of the machine (capped by -Xmx), which G1 then touches all
        // of; the mount needs little heap, so it starts small and grows only if it must.
        memory.add("-Xms" + INITIAL_HEAP_MIB + "m");
        memory.add("-Xmx" + (HEAP_MIB + ((indexBytes + (1 << 20) - 1) >> 20)) + "m");
        memory.add("-XX:MaxDirectMemorySize=" + directMib(dataBytes) + "m");
        return this;
    }

    /** Heap of a serving runtime: framework, engine, request bookkeeping (block data is off-heap). */
    static final int HEAP_MIB = 256;
    static final int INITIAL_HEAP_MIB = 32;
    /** Native memory beyond buffers and cache: demand reads in flight, free blocks, FUSE reply buffers. */
    static final int DIRECT_SLACK_MIB = 256;

    static long directMib(long dataBytes) {
        return (dataBytes >> 20) + DIRECT_SLACK_MIB;
    }

    /**
     * The runtime's JVM options: the memory limits of {@link #memoryFor}, then HANGAR_RUNTIME_OPTS; with an
     * -Xmx (or -XX:MaxRAM…) of its own the user sizes the JVM alone.
     */
    static List<String> jvmOptions(String userOpts, List<String> memory) {
        List<String> user = userOpts == null || userOpts.isBlank() ? List.of()
                : Arrays.asList(userOpts.trim().split("\\s+"));
        List<String> out = new ArrayList<>();
        if (user.stream().noneMatch(o -> o.startsWith("-Xmx") || o.startsWith("-Xms") || o.startsWith("-XX:MaxRAM"))) {
            out.addAll(memory);
        }
        out.addAll(user);
        return out;
    }

    List<String> memoryOptions() {
        return List.copyOf(memory);
    }

    Path readyFile(String volume) {
        return home.resolve("run").resolve(volume + ".ready");
    }

    /** Writes etc/logging.properties unless the user has one. */
    void writeLoggingDefaults() throws IOException {
        Path file = etc.resolve(LOGGING);
        if (!Files.exists(file)) {
            Files.createDirectories(etc);
            Files.writeString(file, LOGGING_DEFAULTS, StandardCharsets.UTF_8);
        }
    }

    /** Removes ready markers a killed runtime left behind, so that waiting means waiting for this one. */
    void clearReadyMarkers() throws IOException {
        Path run = home.resolve("run");
        if (Files.isDirectory(run)) {
            try (var s = Files.newDirectoryStream(run, "*.ready")) {
                for (Path p : s) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /**
     * Starts a runtime without a shell that serves one mount or gateway: in the background in a session of
     * its own (it outlives this terminal: no SIGHUP when it closes), stdin from /dev/null and its output in
     * {@code log}; or in the foreground on this terminal, stopped when this process is ({@link #awaitExit}).
     */
    Process startServing(boolean background, Path log) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command(false));
        if (background) {
            if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
                pb.command().add(0, "/usr/bin/setsid");
            }
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            pb.redirectErrorStream(true).redirectOutput(log.toFile());
        } else {
            pb.inheritIO();
        }
        Process runtime = pb.start();
        if (!background) {
            stopper = new Thread(() -> stop(runtime), "hangar-stop-runtime");
            Runtime.getRuntime().addShutdownHook(stopper);
        }
        return runtime;
    }

    /** Waits for a foreground runtime of {@link #startServing} to exit; returns the CLI's exit code for it. */
    int awaitExit(Process runtime) throws InterruptedException {
        int code = runtime.waitFor();
        if (stopper != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(stopper);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook is stopping the runtime already.
            }
        }
        return exitCode(code);
    }

    List<String> command(boolean interactiveShell) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        String opts = System.getenv(OPTS_ENV);
        cmd.addAll(jvmOptions(opts, memory));
        // UTF-8 whatever the locale (file names the runtime logs and its commands print).
        cmd.add("-Dfile.encoding=UTF-8");
        cmd.add("-Dfelix.fileinstall.dir=" + etc);
        cmd.add("-Dhangar.home=" + home);
        // A cache per runtime: two runtimes (up and a mount) must not share the launcher's default one.
        cmd.add("-Dorg.osgi.framework.storage=" + home.resolve("felix-cache"));
        Path logging = etc.resolve(LOGGING);
        if (Files.isRegularFile(logging)) {
            cmd.add("-Djava.util.logging.config.file=" + logging);
        }
        if (!interactiveShell) {
            // Without a terminal the shell must not read stdin: at its end the launcher would stop (117).
            cmd.add("-Dgosh.args=--nointeractive");
        }
        cmd.addAll(extraProperties);
        cmd.add("-jar");
        cmd.add(runtimeJar().toString());
        return cmd;
    }

    static Path runtimeJar() {
        String p = System.getProperty(JAR_PROPERTY);
        if (p == null || p.isBlank()) {
            throw new CliException(ExitCodes.RUNTIME_FAILED, "no runtime jar: -D" + JAR_PROPERTY
                    + " is not set (run the runtime through ./hangar, which builds cnf/target/hangar.jar)");
        }
        Path jar = Path.of(p);
        if (!Files.isRegularFile(jar)) {
            throw new CliException(ExitCodes.RUNTIME_FAILED, "runtime jar " + jar + " is missing (rebuild: "
                    + "mvn -q -B install -DskipTests -pl cli,cnf)");
        }
        return jar;
    }

    /** Whether the runtime jar embeds the bundle built from {@code artifactId} (its launcher's bundle list). */
    static boolean runtimeHas(String artifactId) {
        try (JarFile jar = new JarFile(runtimeJar().toFile())) {
            JarEntry e = jar.getJarEntry("launcher.properties");
            if (e == null) {
                return false;
            }
            Properties p = new Properties();
            try (InputStream in = jar.getInputStream(e)) {
                p.load(in);
            }
            return Arrays.stream(p.getProperty("launch.bundles", "").split(","))
                    .anyMatch(b -> b.startsWith("jar/" + artifactId + "-"));
        } catch (IOException ex) {
            return false;
        }
    }

    /**
     * Waits until every volume in {@code volumes} is served, every path in {@code mounts} is mounted and
     * every loopback port in {@code ports} accepts connections. Returns false as soon as the runtime exits,
     * or when {@code timeoutMs} (0 = none) runs out.
     */
    boolean awaitServing(Process runtime, List<String> volumes, List<Path> mounts, List<Integer> ports,
            long timeoutMs, PrintStream out) throws InterruptedException {
        long start = System.nanoTime();
        long nextNote = 15_000;
        while (runtime.isAlive()) {
            List<String> waiting = new ArrayList<>();
            volumes.stream().filter(v -> !Files.exists(readyFile(v))).forEach(v -> waiting.add("volume " + v));
            mounts.stream().filter(m -> !Fuse.mounted(m)).forEach(m -> waiting.add("mount " + m));
            ports.stream().filter(p -> !listening(p)).forEach(p -> waiting.add("port " + p));
            if (waiting.isEmpty()) {
                return true;
            }
            long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            if (timeoutMs > 0 && elapsed > timeoutMs) {
                return false;
            }
            if (elapsed > nextNote) {
                out.println("still waiting for " + String.join(", ", waiting));
                nextNote += 15_000;
            }
            Thread.sleep(POLL_MS);
        }
        return false;
    }

    private static boolean listening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * The CLI's exit code for the runtime's: 117 is the launcher's "stopped" ('stop 0', end of the shell's
     * input), 130 and 143 a stop by SIGINT or SIGTERM; anything else is a failure, reported in one line.
     */
    static int exitCode(int runtimeCode) {
        return switch (runtimeCode) {
            case 0, 117, 130, 143 -> ExitCodes.OK;
            default -> throw new CliException(ExitCodes.RUNTIME_FAILED, "the runtime exited with code "
                    + runtimeCode + " (its log is above)");
        };
    }

    /** Stops the runtime as Ctrl-C would (SIGTERM: the framework stops its bundles), then forcibly. */
    static int stop(Process runtime) {
        if (runtime.isAlive()) {
            runtime.destroy();
        }
        try {
            if (!runtime.waitFor(60, TimeUnit.SECONDS)) {
                runtime.destroyForcibly();
                runtime.waitFor();
            }
            return runtime.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            runtime.destroyForcibly();
            return ExitCodes.INTERRUPTED;
        }
    }

    /** A runtime already started on {@code marker} (a -D argument this launcher passed), if any. */
    /** {@code preferred} if a loopback listener can take it now, else a free port. */
    static int freeOr(int preferred) throws IOException {
        try (ServerSocket s = new ServerSocket(preferred, 1, InetAddress.getLoopbackAddress())) {
            return preferred;
        } catch (IOException taken) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                return s.getLocalPort();
            }
        }
    }

    static Optional<ProcessHandle> running(String marker) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().arguments().map(a -> Arrays.asList(a).contains(marker)).orElse(false))
                .findFirst();
    }

    static String tail(Path log, int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log at " + log + ")";
        }
    }

    /**
     * Whether stdin is a terminal this process may read: a terminal, and this process in its foreground
     * process group (a job started with & would be stopped by SIGTTIN on its first read).
     */
    static boolean foregroundTerminal() {
        try {
            String fd0 = Files.readSymbolicLink(Path.of("/proc/self/fd/0")).toString();
            if (!fd0.startsWith("/dev/pts/") && !fd0.startsWith("/dev/tty")) {
                return false;
            }
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // After "pid (comm) ": state ppid pgrp session tty_nr tpgid …
            return f[2].equals(f[5]);
        } catch (IOException | RuntimeException e) {
            return System.console() != null;
        }
    }
}
