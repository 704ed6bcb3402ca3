package io.hangar.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code hangar up}: the runtime on a data folder. On first start it writes the etc/ folder (a volume
 * "default" on SQLite + local chunks, the web console's port and a random password, a FUSE mount when this
 * machine can mount); then it runs the runtime as a child, says where everything is and prints "ready" once
 * the volumes are served and the mounts are up.
 */
@Command(name = "up", mixinStandardHelpOptions = true,
        description = "Starts the Hangar runtime on a data folder (formats the volume 'default' on first start).")
final class UpCommand implements Callable<Integer> {
    static final int DEFAULT_CONSOLE_PORT = 8180;
    static final String METRICS_ARTIFACT = "metrics-prometheus";
    static final String FUSE_ARTIFACT = "frontend-fuse";
    static final int DEFAULT_S3_PORT = 9000;
    /** "ACCESS SECRET" generated on this first start, shown once. */
    private String s3Keys;

    @Spec
    CommandSpec spec;
    @Option(names = "--data", paramLabel = "DIR", defaultValue = "data",
            description = "Data folder: etc/, meta.db, chunks/, mnt/ (default ./data).")
    Path data;
    @Option(names = "--console-port", paramLabel = "PORT",
            description = "Web console port on 127.0.0.1 (default " + DEFAULT_CONSOLE_PORT + ", or a free one if "
                    + "that is taken on first start); stored in etc/.")
    Integer consolePort;
    @Option(names = "--no-shell", description = "Do not run the interactive Gogo shell even on a terminal.")
    boolean noShell;

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintStream out = CliContext.of(spec).out();
        Path dir = data.toAbsolutePath().normalize();
        String marker = "-Dhangar.home=" + dir;
        Optional<ProcessHandle> other = RuntimeLauncher.running(marker);
        if (other.isPresent()) {
            throw new CliException(ExitCodes.REFUSED, "a runtime already serves " + dir + " (pid "
                    + other.get().pid() + ")");
        }
        ConfigFiles etc = new ConfigFiles(dir.resolve("etc"));
        boolean first = !Files.isDirectory(etc.dir());
        // Before anything is written: a missing libfuse 3 is installed (root) or fails here, never a runtime
        // that serves without its mount.
        Optional<String> noFuse = first || !etc.factoryFiles(ConfigFiles.FUSE_PID).isEmpty() ? fuseUnusable(out)
                : Optional.empty();
        String password = null;
        if (first) {
            password = firstStart(dir, etc, noFuse, out);
        } else if (consolePort != null) {
            etc.writeHttp("127.0.0.1", consolePort, "HTTP for the web console and /metrics: loopback only.");
        }

        out.println("data:     " + dir);
        out.println("etc:      " + etc.dir() + "  (configuration, read live by FileInstall)");
        List<String> volumes = new ArrayList<>();
        for (String f : etc.factoryFiles(ConfigFiles.VOLUME_PID)) {
            Map<String, String> v = etc.read(f);
            volumes.add(v.get("name"));
            out.println("volume:   " + v.get("name") + "  meta " + v.get("meta")
                    + (v.containsKey("storage") ? "  storage " + v.get("storage") : "") + "  (" + etc.dir().resolve(f)
                    + ")");
        }
        List<Path> mounts = new ArrayList<>();
        for (String f : etc.factoryFiles(ConfigFiles.FUSE_PID)) {
            Path mp = Path.of(etc.read(f).get("mountpoint")).toAbsolutePath().normalize();
            if (noFuse.isPresent()) {
                out.println("mount:    " + mp + " is configured but cannot mount: " + noFuse.get());
                continue;
            }
            if (Fuse.mounted(mp)) {
                throw new CliException(ExitCodes.REFUSED, mp + " is still mounted (a runtime that died?): "
                        + "fusermount3 -u " + mp);
            }
            Files.createDirectories(mp);
            mounts.add(mp);
            out.println("mount:    " + mp);
        }
        List<Integer> ports = new ArrayList<>();
        if (etc.exists(ConfigFiles.HTTP_PID + ".cfg")) {
            String port = etc.read(ConfigFiles.HTTP_PID + ".cfg").get("org.osgi.service.http.port");
            ports.add(Integer.parseInt(port));
            String user = etc.read(ConfigFiles.CONSOLE_PID + ".cfg").getOrDefault("username", ConfigFiles.CONSOLE_USER);
            out.println("console:  http://127.0.0.1:" + port + "/system/console  user " + user + ", password "
                    + (password != null ? password : "in " + etc.dir().resolve(ConfigFiles.CONSOLE_PID + ".cfg")));
            if (RuntimeLauncher.runtimeHas(METRICS_ARTIFACT)) {
                out.println("metrics:  http://127.0.0.1:" + port + "/metrics  (hangar stats " + mounts.stream()
                        .findFirst().map(Path::toString).orElse("http://127.0.0.1:" + port + "/metrics") + ")");
            }
        }
        for (String f : etc.factoryFiles(GatewayCommand.S3_PID)) {
            Map<String, String> g = etc.read(f);
            String listen = g.getOrDefault("listen", "127.0.0.1:9000");
            String creds = g.getOrDefault("credentials", "");
            out.println("s3:       http://" + listen + "  " + (s3Keys != null ? "access key " + s3Keys.replace(" ",
                    ", secret key ") : "keys in " + (creds.isEmpty() ? "$" + GatewayCommand.ENV_ACCESS : creds)));
            out.println("api:      http://" + listen + "/api/v1  model repository (docs/repository.md); admin token in "
                    + etc.dir().resolve("api-token"));
            String host = listen.substring(0, listen.lastIndexOf(':'));
            if (host.equals("127.0.0.1") || host.equals("localhost") || host.equals("0.0.0.0")) {
                ports.add(Integer.parseInt(listen.substring(listen.lastIndexOf(':') + 1)));
            }
        }
        boolean shell = !noShell && RuntimeLauncher.foregroundTerminal();
        out.println(shell ? "shell:    Gogo below: try 'hangar:ls default /', 'help', 'stop 0' to stop"
                : "shell:    none (stdin is not a terminal in the foreground); stop with Ctrl-C or SIGTERM");

        RuntimeLauncher launcher = new RuntimeLauncher(dir, etc.dir());
        launcher.writeLoggingDefaults();
        launcher.clearReadyMarkers();
        Process runtime = new ProcessBuilder(launcher.command(shell)).inheritIO().start();
        Thread stopper = new Thread(() -> RuntimeLauncher.stop(runtime), "hangar-stop-runtime");
        Runtime.getRuntime().addShutdownHook(stopper);
        if (launcher.awaitServing(runtime, volumes, mounts, ports, 0, out)) {
            out.println("ready");
        }
        int code = runtime.waitFor();
        try {
            Runtime.getRuntime().removeShutdownHook(stopper);
        } catch (IllegalStateException shuttingDown) {
            // Ctrl-C: the hook is running already and the runtime has stopped.
        }
        return RuntimeLauncher.exitCode(code);
    }

    /** Writes the default etc/ folder; returns the generated console password to show once. */
    private String firstStart(Path dir, ConfigFiles etc, Optional<String> noFuse, PrintStream out)
            throws IOException {
        Files.createDirectories(etc.dir());
        Map<String, String> volume = new LinkedHashMap<>();
        volume.put("name", "default");
        volume.put("meta", "sqlite://" + dir.resolve("meta.db"));
        volume.put("storage", "file://" + dir.resolve("chunks"));
        etc.write(ConfigFiles.factoryFile(ConfigFiles.VOLUME_PID, "default"),
                "The volume 'default' (platform-core formats it on first open because 'storage' is set).", volume,
                false);

        etc.writeHttp("127.0.0.1", consolePort != null ? consolePort : RuntimeLauncher.freeOr(DEFAULT_CONSOLE_PORT),
                "HTTP for the web console and /metrics: loopback only.");
        String password = etc.writeConsoleLogin("Felix Web Console login (generated on first start).");

        if (RuntimeLauncher.runtimeHas("frontend-http")) {
            // The S3 gateway on a loopback port, with a key pair generated now and kept in etc/.
            s3Keys = GatewayCommand.generateKeys(etc, "S3 keys of the gateway 'hangar up' serves (generated on "
                    + "first start).");
            Map<String, String> s3 = new LinkedHashMap<>();
            s3.put("volume", "default");
            s3.put("listen", "127.0.0.1:" + RuntimeLauncher.freeOr(DEFAULT_S3_PORT));
            s3.put("credentials", etc.dir().resolve(GatewayCommand.CREDENTIALS_FILE).toString());
            etc.write(ConfigFiles.factoryFile(GatewayCommand.S3_PID, "default"),
                    "S3 gateway of the volume 'default' (loopback only). Delete this file to stop it.", s3, false);
        }
        if (noFuse.isEmpty()) {
            Map<String, String> fuse = new LinkedHashMap<>();
            fuse.put("volume", "default");
            fuse.put("mountpoint", dir.resolve("mnt").toString());
            fuse.put("readOnly", "false");
            etc.write(ConfigFiles.factoryFile(ConfigFiles.FUSE_PID, "default"),
                    "FUSE mount of the volume 'default'. Delete this file to unmount.", fuse, false);
        } else {
            out.println("note:     no FUSE mount: " + noFuse.get());
        }
        out.println("created:  " + etc.dir() + " (first start)");
        return password;
    }

    /**
     * Why this runtime cannot mount here (no usable /dev/fuse, no FUSE frontend bundle in the runtime): it then
     * serves without a mount. A missing libfuse 3 is not such a reason: it is installed or fails
     * ({@link Fuse#ensureInstalled}).
     */
    private static Optional<String> fuseUnusable(PrintStream out) {
        Optional<String> why = Fuse.unusableReason();
        if (why.isEmpty() && !RuntimeLauncher.runtimeHas(FUSE_ARTIFACT)) {
            return Optional.of("the runtime has no " + FUSE_ARTIFACT + " bundle");
        }
        if (why.isEmpty()) {
            Fuse.ensureInstalled(out);
        }
        return why;
    }
}
