package io.hangar.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code hangar umount}: unmounts and waits for the mount's runtime to finish (its writes are flushed). */
@Command(name = "umount", mixinStandardHelpOptions = true,
        description = "Unmounts a FUSE mount and waits for its runtime to exit.")
final class UmountCommand implements Callable<Integer> {
    private static final long EXIT_WAIT_S = 60;

    @Spec
    CommandSpec spec;
    @Parameters(paramLabel = "MOUNTPOINT")
    Path mountpoint;

    @Override
    public Integer call() throws IOException, InterruptedException {
        Path mp = mountpoint.toAbsolutePath().normalize();
        if (!Fuse.mounted(mp)) {
            throw new CliException(ExitCodes.NOT_FOUND, mp + " is not mounted");
        }
        Path fusermount = Fuse.fusermount().orElseThrow(() -> new CliException(ExitCodes.FAILURE,
                "fusermount3 is not installed"));
        Optional<ProcessHandle> runtime = RuntimeLauncher.running("-D" + MountCommand.MOUNTPOINT_PROPERTY + "=" + mp);
        Process p = new ProcessBuilder(fusermount.toString(), "-u", mp.toString()).redirectErrorStream(true).start();
        String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (p.waitFor() != 0) {
            throw new CliException(ExitCodes.REFUSED, "cannot unmount " + mp + ": "
                    + (said.isEmpty() ? "fusermount failed" : said.lines().findFirst().orElse(said)));
        }
        if (runtime.isPresent()) {
            ProcessHandle r = runtime.get();
            try {
                r.onExit().get(EXIT_WAIT_S, TimeUnit.SECONDS);
            } catch (TimeoutException | ExecutionException e) {
                // The runtime should have stopped with its mount; stop it as Ctrl-C would.
                r.destroy();
                try {
                    r.onExit().get(EXIT_WAIT_S, TimeUnit.SECONDS);
                } catch (TimeoutException | ExecutionException e2) {
                    throw new CliException(ExitCodes.RUNTIME_FAILED, "unmounted " + mp + ", but its runtime (pid "
                            + r.pid() + ") does not exit");
                }
            }
        }
        CliContext.of(spec).out().println("unmounted " + mp);
        return ExitCodes.OK;
    }
}
