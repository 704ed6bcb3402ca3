package io.hangar.cli;

import io.hangar.spi.meta.VolumeFormat;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code hangar mount}: a runtime of its own that serves one volume and mounts it with FUSE. Its etc/ and
 * home live in a private folder per mount point; the runtime exits once its mount is gone
 * ({@code exitOnUnmount}), so {@code fusermount -u} or {@code hangar umount} ends it.
 */
@Command(name = "mount", mixinStandardHelpOptions = true,
        description = "Mounts a volume with FUSE (a runtime of its own; -d returns once mounted).")
final class MountCommand implements Callable<Integer> {
    static final String MOUNTPOINT_PROPERTY = "hangar.mountpoint";
    private static final long MOUNT_TIMEOUT_MS = 120_000;

    @Spec
    CommandSpec spec;
    @Parameters(hideParamSyntax = true, arity = "1..2", paramLabel = "[META-URL] MOUNTPOINT",
            description = "Metadata URL (default $HANGAR_META) and the directory to mount on.")
    List<String> args = new ArrayList<>();
    @Option(names = "--read-only", description = "Mount read-only.")
    boolean readOnly;
    @Option(names = "--subdir", paramLabel = "DIR", description = "Mount only this directory of the volume.")
    String subdir;
    @Option(names = "--runtime-dir", paramLabel = "DIR",
            description = "The mount runtime's local folder (etc/, run/, runtime.log); default "
                    + "~/.hangar/mounts/<hash of the mount point>.")
    Path runtimeDir;
    @Mixin
    VolumeCacheOptions cache;
    @Mixin
    VolumeMemoryOptions memory;
    @Option(names = "--attr-timeout", paramLabel = "SECONDS", description = "Kernel attribute cache timeout.")
    Double attrTimeout;
    @Option(names = "--entry-timeout", paramLabel = "SECONDS", description = "Kernel name lookup cache timeout.")
    Double entryTimeout;
    @Mixin
    MetricsOptions metrics;
    @Option(names = {"-d", "--background"}, description = "Run in the background; return once mounted.")
    boolean background;
    @Option(names = "--model", paramLabel = "TEAM/MODEL:REF",
            description = "Mount exactly this released version of a model, read-only (the tag or number is "
                    + "resolved once, now, with --token: a pod's token that may read only that model's released "
                    + "versions will do).")
    String model;
    @Mixin
    RepoOptions repo;

    @Override
    public Integer call() throws IOException, InterruptedException {
        CliContext ctx = CliContext.of(spec);
        PrintStream out = ctx.out();
        String meta = VolumeCommand.volume(ctx, args, 1);
        Path mp = Path.of(args.get(args.size() - 1)).toAbsolutePath().normalize();
        Fuse.unusableReason().ifPresent(why -> {
            throw new CliException(ExitCodes.RUNTIME_FAILED, "cannot mount: " + why);
        });
        Fuse.ensureInstalled(out);
        if (Fuse.mounted(mp)) {
            throw new CliException(ExitCodes.REFUSED, mp + " is already mounted");
        }
        // Parsed as the volume will parse them: a bad size fails here, in one line.
        long dataMemory = memory.dataMemory();
        cache.check();
        // Fails here, in one line, for an unformatted volume or a URL no engine opens.
        VolumeFormat f = ctx.volumes().status(meta);
        String version = null;
        if (model != null) {
            if (subdir != null) {
                throw CliException.usage("--model chooses the directory: no --subdir with it");
            }
            version = resolveModel(ctx);
        }
        Files.createDirectories(mp);

        Path home = (runtimeDir != null ? runtimeDir : stateDir(mp)).toAbsolutePath().normalize();
        ConfigFiles etc = new ConfigFiles(home.resolve("etc"));
        writeConfig(etc, meta, f.name(), mp);
        String metricsUrl = metrics.writeTo(etc, "mount");

        RuntimeLauncher launcher = new RuntimeLauncher(home, etc.dir()).property(MOUNTPOINT_PROPERTY, mp.toString())
                .memoryFor(dataMemory + cache.writerBacklogBytes(), cache.indexHeapBytes(f.blockSize()));
        launcher.writeLoggingDefaults();
        launcher.clearReadyMarkers();
        Path log = home.resolve("runtime.log");
        Process runtime = launcher.startServing(background, log);
        boolean mounted = launcher.awaitServing(runtime, List.of(), List.of(mp), List.of(), background ? MOUNT_TIMEOUT_MS : 0,
                out);
        if (!mounted) {
            if (runtime.isAlive()) {
                RuntimeLauncher.stop(runtime);
            }
            throw new CliException(ExitCodes.RUNTIME_FAILED, "the runtime did not mount " + mp
                    + (background ? "; last lines of " + log + ":\n" + RuntimeLauncher.tail(log, 20) : ""));
        }
        if (version != null) {
            out.println("mounted " + model + " = " + version + " read-only at " + mp);
        }
        out.println("mounted " + f.name() + " (" + meta + ") at " + mp + (background ? " (runtime pid "
                + runtime.pid() + ", log " + log + ")" : ""));
        if (metricsUrl != null) {
            out.println("metrics " + metricsUrl + " (hangar stats " + mp + ")");
        }
        if (background) {
            return ExitCodes.OK;
        }
        return launcher.awaitExit(runtime);
    }

    /**
     * Resolves {@link #model} through the repository API with the caller's token: the version must be released
     * (or deprecated); the mount then serves its directory read-only. A tag moved later is seen by the next
     * mount, never by this one. Returns "team/model:vN" for the message.
     */
    private String resolveModel(CliContext ctx) throws InterruptedException {
        ModelRef ref = ModelRef.parse(model, ModelRef.RefRule.REQUIRED);
        RepoClient client = new RepoClient(repo.server(ctx.env()), repo.token(ctx.env(), ctx.home()));
        Map<String, Object> v = Json.obj(client.get("/teams/" + RepoClient.segment(ref.team()) + "/models/"
                + RepoClient.segment(ref.model()) + "/versions/" + RepoClient.segment(ref.ref())));
        String state = Json.str(v, "state");
        if (!"released".equals(state) && !"deprecated".equals(state)) {
            throw new CliException(ExitCodes.REFUSED, model + " is " + state
                    + ": --model mounts released versions only");
        }
        readOnly = true;
        subdir = Json.str(v, "path");
        return ref.team() + "/" + ref.model() + ":v" + Json.num(v, "number", -1);
    }

    private void writeConfig(ConfigFiles etc, String meta, String name, Path mp) throws IOException {
        // The folder is this mount's alone: what an earlier mount left there must not be served again.
        for (String old : etc.factoryFiles(ConfigFiles.VOLUME_PID)) {
            Files.delete(etc.dir().resolve(old));
        }
        for (String old : etc.factoryFiles(ConfigFiles.FUSE_PID)) {
            Files.delete(etc.dir().resolve(old));
        }
        Map<String, String> volume = new LinkedHashMap<>();
        volume.put("name", name);
        volume.put("meta", meta);
        memory.addTo(volume);
        cache.addTo(volume);
        etc.write(ConfigFiles.factoryFile(ConfigFiles.VOLUME_PID, name), "Written by 'hangar mount'.", volume, false);

        Map<String, String> fuse = new LinkedHashMap<>();
        fuse.put("volume", name);
        fuse.put("mountpoint", mp.toString());
        fuse.put("readOnly", Boolean.toString(readOnly));
        if (subdir != null) {
            fuse.put("subdir", VolumeOps.normalize(subdir));
        }
        if (attrTimeout != null) {
            fuse.put("attrTimeout", attrTimeout.toString());
        }
        if (entryTimeout != null) {
            fuse.put("entryTimeout", entryTimeout.toString());
        }
        if (memory.bufferSize != null) {
            fuse.put("bufferSize", memory.bufferSize);
        }
        // This runtime exists for this mount only: it stops the framework once the mount is gone.
        fuse.put("exitOnUnmount", "true");
        etc.write(ConfigFiles.factoryFile(ConfigFiles.FUSE_PID, name), "Written by 'hangar mount'.", fuse, false);
    }

    /** ~/.hangar/mounts/<12 hex of SHA-256(mount point)>: one private folder per mount point. */
    static Path stateDir(Path mountpoint) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(mountpoint.toString()
                    .getBytes(StandardCharsets.UTF_8));
            return Path.of(System.getProperty("user.home"), ".hangar", "mounts",
                    HexFormat.of().formatHex(h, 0, 6));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
