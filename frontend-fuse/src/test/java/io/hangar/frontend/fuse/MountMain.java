package io.hangar.frontend.fuse;

import io.hangar.fs.FsException;
import io.hangar.spi.frontend.Endpoint;
import io.hangar.vfs.standalone.OpenVolume;
import io.hangar.vfs.standalone.Volumes;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;

/**
 * Mounts a volume outside the framework, with jnr-ffi on the plain class path: what the FUSE test suites
 * and the benchmark use (integration-tests/fuse/run.sh, bench.sh). Runs until the mount is unmounted
 * (fusermount -u) or the process gets SIGTERM/SIGINT, then unmounts and closes the volume.
 *
 * <pre>
 * MountMain format META-URL NAME STORAGE-URL
 * MountMain mount META-URL MOUNTPOINT [--read-only] [--subdir DIR] [--buffer-size BYTES]
 *                 [--attr-timeout S] [--entry-timeout S] [--options O,O] [--negative-timeout S]
 *                 [--writeback-cache]
 * </pre>
 */
public final class MountMain {
    private MountMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 4 && args[0].equals("format")) {
            Volumes.format(args[1], args[2], args[3], Map.of());
            System.out.println("formatted " + args[2]);
            return;
        }
        if (args.length < 3 || !args[0].equals("mount")) {
            System.err.println("usage: MountMain format META-URL NAME STORAGE-URL | mount META-URL MOUNTPOINT [options]");
            System.exit(2);
        }
        Map<String, String> volumeOptions = new HashMap<>();
        Map<String, String> mount = new HashMap<>();
        mount.put(MountSpec.MOUNTPOINT, args[2]);
        for (int i = 3; i < args.length; i++) {
            switch (args[i]) {
                case "--read-only" -> mount.put("readOnly", "true");
                case "--subdir" -> mount.put("subdir", args[++i]);
                case "--buffer-size" -> volumeOptions.put("buffer-size", args[++i]);
                case "--attr-timeout" -> mount.put(MountSpec.ATTR_TIMEOUT, args[++i]);
                case "--entry-timeout" -> mount.put(MountSpec.ENTRY_TIMEOUT, args[++i]);
                case "--options" -> mount.put(MountSpec.OPTIONS, args[++i]);
                case "--negative-timeout" -> mount.put("negativeTimeout", args[++i]);
                case "--writeback-cache" -> mount.put("writebackCache", "true");
                default -> {
                    System.err.println("unknown option " + args[i]);
                    System.exit(2);
                }
            }
        }
        OpenVolume volume = Volumes.open(args[1], volumeOptions);
        Endpoint endpoint;
        try {
            endpoint = new FuseFrontend().start(volume, mount);
        } catch (FsException e) {
            volume.close();
            System.err.println("mount failed: " + e.getMessage());
            System.exit(1);
            return;
        }
        Runnable shutdown = () -> {
            synchronized (MountMain.class) {
                try {
                    endpoint.close();
                } catch (FsException e) {
                    System.err.println("unmount: " + e.getMessage());
                }
                try {
                    volume.close();
                } catch (FsException e) {
                    System.err.println("closing the volume: " + e.getMessage());
                }
            }
        };
        Runtime.getRuntime().addShutdownHook(new Thread(shutdown, "hangar-unmount"));
        System.out.println("mounted " + volume.name() + " at " + endpoint.address());
        System.out.flush();
        int rc = 0;
        try {
            endpoint.ended().toCompletableFuture().get();
        } catch (ExecutionException e) {
            System.err.println("mount ended with an error: " + e.getCause().getMessage());
            rc = 1;
        }
        shutdown.run();
        System.exit(rc);
    }
}
