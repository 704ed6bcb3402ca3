package io.hangar.cli;

import java.io.File;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;

/** What the launcher needs to know about FUSE on this machine: can it mount, and what is mounted. */
final class Fuse {
    private static final Path DEVICE = Path.of("/dev/fuse");

    private Fuse() {
    }

    /** Why this process cannot mount, or empty when /dev/fuse opens read-write and fusermount exists. */
    static Optional<String> unusableReason() {
        if (!Files.exists(DEVICE)) {
            return Optional.of("/dev/fuse does not exist (no FUSE in this kernel or container)");
        }
        try (FileChannel c = FileChannel.open(DEVICE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            // Opening is the test: permissions, container device rules and missing modules all show here.
        } catch (IOException | SecurityException e) {
            return Optional.of("/dev/fuse cannot be opened read-write (" + e.getMessage() + ")");
        }
        if (fusermount().isEmpty()) {
            return Optional.of("fusermount is not installed (Debian: apt-get install fuse)");
        }
        return Optional.empty();
    }

    /** fusermount (libfuse 2) or fusermount3 on the PATH. */
    static Optional<Path> fusermount() {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String name : List.of("fusermount", "fusermount3")) {
            for (String dir : path.split(File.pathSeparator)) {
                Path p = Path.of(dir.isEmpty() ? "." : dir, name);
                if (Files.isExecutable(p)) {
                    return Optional.of(p);
                }
            }
        }
        return Optional.empty();
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
