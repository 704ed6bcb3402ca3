package io.hangar.cli;

import io.hangar.fsck.VolumeCheck;
import io.hangar.spi.meta.VolumeFormat;
import io.hangar.vfs.Volume;
import io.hangar.vfs.VolumeService;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import picocli.CommandLine.Command;

/**
 * The Gogo commands {@code hangar:*}: the command line's volume commands, parsed by the same picocli
 * classes, on the volumes this runtime serves (the volume argument is a volume name). Gogo gives each
 * session its own System.out/err, so output goes to the session that ran the command.
 */
@Component(service = ShellCommands.class, property = {
    "osgi.command.scope=hangar",
    "osgi.command.function=format", "osgi.command.function=status", "osgi.command.function=put",
    "osgi.command.function=get", "osgi.command.function=ls", "osgi.command.function=stat",
    "osgi.command.function=cat", "osgi.command.function=rm", "osgi.command.function=mkdir",
    "osgi.command.function=fsck", "osgi.command.function=gc", "osgi.command.function=volumes"})
public class ShellCommands {
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{1,62}");
    private static final long FORMAT_WAIT_MS = 60_000;

    private final RuntimeVolumes volumes;

    @Activate
    public ShellCommands(@Reference VolumeService volumeService, BundleContext context) {
        this(volumeService, context.getProperty("felix.fileinstall.dir"));
    }

    ShellCommands(VolumeService volumeService, String etcDir) {
        this.volumes = new RuntimeVolumes(volumeService, etcDir);
    }

    public void format(String... args) {
        run("format", args);
    }

    public void status(String... args) {
        run("status", args);
    }

    public void put(String... args) {
        run("put", args);
    }

    public void get(String... args) {
        run("get", args);
    }

    public void ls(String... args) {
        run("ls", args);
    }

    public void stat(String... args) {
        run("stat", args);
    }

    public void cat(String... args) {
        run("cat", args);
    }

    public void rm(String... args) {
        run("rm", args);
    }

    public void mkdir(String... args) {
        run("mkdir", args);
    }

    public void fsck(String... args) {
        run("fsck", args);
    }

    public void gc(String... args) {
        run("gc", args);
    }

    /** The volumes this runtime serves, one per line with their state. */
    public void volumes() {
        for (Volume v : volumes.volumeService.volumes()) {
            System.out.println(v.name() + "  " + v.format().storage() + "  " + v.state());
        }
    }

    private void run(String command, String[] args) {
        ShellRoot root = new ShellRoot(volumes);
        String[] full = new String[args.length + 1];
        full[0] = command;
        System.arraycopy(args, 0, full, 1, args.length);
        Main.execute(VolumeCommands.commandLine(root), full, root);
    }

    /** The volumes of this runtime by name; formatting adds a volume to etc/. */
    static final class RuntimeVolumes implements VolumeAccess {
        final VolumeService volumeService;
        private final String etcDir;

        RuntimeVolumes(VolumeService volumeService, String etcDir) {
            this.volumeService = volumeService;
            this.etcDir = etcDir;
        }

        @Override
        public String argumentLabel() {
            return "volume";
        }

        /** Without a volume argument, the one volume this runtime serves, if it serves exactly one. */
        @Override
        public Optional<String> defaultVolume() {
            var all = volumeService.volumes();
            return all.size() == 1 ? Optional.of(all.iterator().next().name()) : Optional.empty();
        }

        @Override
        public OpenedVolume open(String name) {
            Volume v = served(name);
            return new OpenedVolume() {
                @Override
                public Volume volume() {
                    return v;
                }

                @Override
                public void close() {
                    // The runtime owns the volume: nothing to release.
                }
            };
        }

        @Override
        public VolumeCheck check(String name) {
            return served(name).check();
        }

        @Override
        public VolumeFormat status(String name) {
            return served(name).format();
        }

        /**
         * Formatting in the runtime adds a volume to etc/ (io.hangar.volume-NAME.cfg with 'storage' set), so
         * that it is formatted on first open and served from then on, across restarts; returns once it serves.
         */
        @Override
        public VolumeFormat format(String metaUrl, String name, String storageUrl, Map<String, String> options) {
            if (!options.isEmpty()) {
                throw CliException.usage("the runtime formats with default settings; for " + String.join(", ",
                        options.keySet()) + " use ./hangar format, then add the volume to etc/");
            }
            if (!NAME.matcher(name).matches()) {
                throw CliException.usage("volume name must be 2-63 of [a-z0-9-]: " + name);
            }
            if (etcDir == null || etcDir.isBlank()) {
                throw new CliException(ExitCodes.FAILURE, "this runtime has no etc/ folder (felix.fileinstall.dir)");
            }
            ConfigFiles etc = new ConfigFiles(Path.of(etcDir));
            String file = ConfigFiles.factoryFile(ConfigFiles.VOLUME_PID, name);
            try {
                if (etc.exists(file)) {
                    String configured = etc.read(file).get("meta");
                    if (!metaUrl.equals(configured)) {
                        throw new CliException(ExitCodes.REFUSED, "volume '" + name + "' is configured on " + configured);
                    }
                } else {
                    Map<String, String> props = new LinkedHashMap<>();
                    props.put("name", name);
                    props.put("meta", metaUrl);
                    props.put("storage", storageUrl);
                    etc.write(file, "Added by hangar:format.", props, false);
                }
            } catch (IOException e) {
                throw Errors.local(e, etc.dir().resolve(file));
            }
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(FORMAT_WAIT_MS);
            while (System.nanoTime() < deadline) {
                Optional<Volume> v = volumeService.volume(name);
                if (v.isPresent()) {
                    return v.get().format();
                }
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CliException(ExitCodes.INTERRUPTED, "interrupted");
                }
            }
            throw new CliException(ExitCodes.RUNTIME_FAILED, "volume '" + name + "' was added to " + etc.dir().resolve(file)
                    + " but is not served after " + FORMAT_WAIT_MS / 1000 + " s: see the runtime's log");
        }

        private Volume served(String name) {
            return volumeService.volume(name).orElseThrow(() -> new CliException(ExitCodes.UNKNOWN_VOLUME,
                    "no volume '" + name + "' is served here (served: " + volumeService.volumes().stream()
                            .map(Volume::name).sorted().collect(Collectors.joining(", ")) + ")"));
        }
    }

    /** The root of the Gogo command tree: the volume commands only, on the runtime's volumes. */
    @Command(name = "hangar")
    static final class ShellRoot implements CliContext {
        private final VolumeAccess volumes;

        ShellRoot(VolumeAccess volumes) {
            this.volumes = volumes;
        }

        @Override
        public VolumeAccess volumes() {
            return volumes;
        }

        @Override
        public PrintStream out() {
            return System.out;
        }

        @Override
        public PrintStream err() {
            return System.err;
        }

        @Override
        public boolean debug() {
            return false;
        }
    }
}
