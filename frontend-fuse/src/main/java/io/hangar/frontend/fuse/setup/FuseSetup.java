package io.hangar.frontend.fuse.setup;

import io.hangar.frontend.fuse.SharedLibraries;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Whether libfuse 3 is installed ({@value #LIBRARY} where the loader finds it, {@value #FUSERMOUNT} to
 * unmount, and to mount without root), and what to do when it is not: as root on Debian (apt-get there)
 * install it with {@value #INSTALL_COMMAND}; otherwise fail in one line that says what is missing and
 * which command installs it. {@link #decide} is the whole decision, on facts given to it.
 */
public final class FuseSetup {
    public static final String LIBRARY = "libfuse3.so.3";
    public static final String FUSERMOUNT = "fusermount3";
    public static final List<String> PACKAGES = List.of("fuse3", "libfuse3-3");
    public static final String INSTALL_COMMAND = "apt-get install -y " + String.join(" ", PACKAGES);
    /** Where fusermount3 is looked for after the PATH (a runtime may run with a short one). */
    private static final List<String> BIN_DIRS = List.of("/usr/bin", "/bin", "/usr/local/bin");

    private FuseSetup() {
    }

    /** What this machine has and may do. */
    public record Facts(boolean library, boolean fusermount, boolean root, boolean apt) {
        /** This machine, now. */
        public static Facts probe() {
            return new Facts(SharedLibraries.find(LIBRARY).isPresent(), FuseSetup.fusermount().isPresent(), isRoot(),
                    executable("apt-get").isPresent());
        }
    }

    public enum Action {
        /** Everything is there: mount. */
        READY,
        /** Root on Debian: run {@link #INSTALL_COMMAND}, then mount. */
        INSTALL,
        /** Cannot mount; the message says what is missing and how to install it. */
        FAIL
    }

    /** What to do, and the one line to print about it (empty for {@link Action#READY}). */
    public record Decision(Action action, String message) {
    }

    public static Decision decide(Facts f) {
        if (f.library() && f.fusermount()) {
            return new Decision(Action.READY, "");
        }
        String missing = missing(f);
        if (!f.apt()) {
            return new Decision(Action.FAIL, "libfuse 3 is not installed (" + missing + ") and there is no apt-get "
                    + "here: install the packages that provide " + LIBRARY + " and " + FUSERMOUNT
                    + " with this system's package manager");
        }
        if (!f.root()) {
            return new Decision(Action.FAIL, "libfuse 3 is not installed (" + missing + "); install it as root with: "
                    + INSTALL_COMMAND);
        }
        return new Decision(Action.INSTALL, "installing libfuse 3 (" + missing + "): " + INSTALL_COMMAND);
    }

    private static String missing(Facts f) {
        List<String> m = new ArrayList<>();
        if (!f.library()) {
            m.add(LIBRARY + " not found");
        }
        if (!f.fusermount()) {
            m.add(FUSERMOUNT + " not found");
        }
        return String.join(", ", m);
    }

    /**
     * Makes this machine ready to mount: probes it, installs libfuse 3 when {@link #decide} says so (printing
     * its one line through {@code say}) and probes again. Empty when a mount can be made, else the one line
     * that says why not.
     */
    public static Optional<String> ensure(Consumer<String> say) {
        return ensure(Facts::probe, FuseSetup::aptInstall, say);
    }

    /** {@link #ensure(Consumer)} with the probe and the installer (empty on success, else why) given. */
    public static Optional<String> ensure(Supplier<Facts> probe, Supplier<Optional<String>> installer,
            Consumer<String> say) {
        Decision d = decide(probe.get());
        if (d.action() == Action.READY) {
            return Optional.empty();
        }
        if (d.action() == Action.FAIL) {
            return Optional.of(d.message());
        }
        say.accept(d.message());
        Optional<String> failed = installer.get();
        if (failed.isPresent()) {
            return Optional.of(INSTALL_COMMAND + " failed: " + failed.get());
        }
        Facts after = probe.get();
        if (!after.library() || !after.fusermount()) {
            return Optional.of("after " + INSTALL_COMMAND + " libfuse 3 is still not usable (" + missing(after) + ")");
        }
        return Optional.empty();
    }

    /** Runs {@link #INSTALL_COMMAND} (after apt-get update when the package lists do not know the packages). */
    private static Optional<String> aptInstall() {
        List<String> install = List.of(INSTALL_COMMAND.split(" "));
        Optional<String> first = run(install);
        if (first.isEmpty()) {
            return first;
        }
        // A fresh machine has no package lists yet ("Unable to locate package").
        Optional<String> update = run(List.of("apt-get", "update"));
        if (update.isPresent()) {
            return Optional.of(first.get() + "; apt-get update: " + update.get());
        }
        return run(install);
    }

    /** Runs a command with its output captured; empty on success, else its exit status and last line. */
    private static Optional<String> run(List<String> command) {
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            int rc = p.waitFor();
            if (rc == 0) {
                return Optional.empty();
            }
            String last = out.isEmpty() ? "" : out.substring(out.lastIndexOf('\n') + 1).strip();
            return Optional.of("exit " + rc + (last.isEmpty() ? "" : ": " + last));
        } catch (IOException e) {
            return Optional.of(e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("interrupted");
        }
    }

    /** fusermount3 on the PATH, else in the usual directories. */
    public static Optional<Path> fusermount() {
        return executable(FUSERMOUNT);
    }

    private static Optional<Path> executable(String name) {
        List<String> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String d : path.split(File.pathSeparator)) {
                dirs.add(d.isEmpty() ? "." : d);
            }
        }
        dirs.addAll(BIN_DIRS);
        dirs.add("/usr/sbin");
        dirs.add("/sbin");
        return dirs.stream().map(d -> Path.of(d, name)).filter(Files::isExecutable).findFirst();
    }

    /** Whether this process runs as root (uid 0). */
    public static boolean isRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }
}
