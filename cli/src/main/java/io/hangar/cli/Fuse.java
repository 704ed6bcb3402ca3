package io.hangar.cli;

import io.hangar.frontend.fuse.setup.FuseSetup;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** What the launcher needs to know about FUSE on this machine: can it mount, and what is mounted. */
final class Fuse {
    private static final Path DEVICE = Path.of("/dev/fuse");

    private Fuse() {
    }

    /**
     * Why this process cannot mount whatever is installed, or empty when /dev/fuse opens read-write. What can
     * be installed (libfuse 3) is {@link #ensureInstalled}'s.
     */
    static Optional<String> unusableReason() {
        if (!Files.exists(DEVICE)) {
            return Optional.of("/dev/fuse does not exist (no FUSE in this kernel or container)");
        }
        try (FileChannel c = FileChannel.open(DEVICE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            // Opening is the test: permissions, container device rules and missing modules all show here.
        } catch (IOException | SecurityException e) {
            return Optional.of("/dev/fuse cannot be opened read-write (" + e.getMessage() + ")");
        }
        return Optional.empty();
    }

    /**
     * libfuse 3 ({@link FuseSetup}): as root on Debian installs it when it is missing, saying so in one line
     * on {@code out}; otherwise a missing one fails in one line naming the command that installs it.
     */
    static void ensureInstalled(PrintStream out) {
        FuseSetup.ensure(out::println).ifPresent(why -> {
            throw new CliException(ExitCodes.RUNTIME_FAILED, "cannot mount: " + why);
        });
    }

    /** fusermount3 ({@link FuseSetup#fusermount}). */
    static Optional<Path> fusermount() {
        return FuseSetup.fusermount();
    }

    /** Whether {@code mountpoint} (absolute, normalized) is a mount point in /proc/mounts. */
    static boolean mounted(Path mountpoint) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/mounts"))) {
                String[] f = line.split(" ");
                if (f.length > 1 && unescape(f[1]).equals(mountpoint.toString())) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    /** The mount point of the Hangar FUSE mount (type fuse.hangar) that holds {@code path}, if any. */
    static Optional<Path> hangarMountOf(Path path) {
        Path best = null;
        for (Path mp : hangarMounts()) {
            if (path.startsWith(mp) && (best == null || mp.getNameCount() > best.getNameCount())) {
                best = mp;
            }
        }
        return Optional.ofNullable(best);
    }

    /** The mount points of the Hangar FUSE mounts in /proc/mounts. */
    static List<Path> hangarMounts() {
        List<Path> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/mounts"))) {
                String[] f = line.split(" ");
                if (f.length > 2 && f[2].equals("fuse.hangar")) {
                    out.add(Path.of(unescape(f[1])));
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        return out;
    }

    /** /proc/mounts writes space, tab, newline and backslash in paths as octal escapes (\040 …). */
    static String unescape(String field) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 3 < field.length() && field.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                sb.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
