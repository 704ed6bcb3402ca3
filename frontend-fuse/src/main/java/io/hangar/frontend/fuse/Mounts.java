package io.hangar.frontend.fuse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** What the system says about mounts: /proc/self/mountinfo and the fusermount tool. */
final class Mounts {
    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    private Mounts() {
    }

    /** Whether {@code dir} (a real path) is the mount point of some mount in this mount namespace. */
    static boolean isMountPoint(Path dir) {
        try {
            for (String line : Files.readAllLines(MOUNTINFO)) {
                String[] f = line.split(" ");
                if (f.length > 4 && unescape(f[4]).equals(dir.toString())) {
                    return true;
                }
            }
        } catch (IOException e) {
            // No /proc: libfuse refuses a busy mount point itself.
        }
        return false;
    }

    /** mountinfo writes space, tab, newline and backslash in paths as octal escapes (\040). */
    static String unescape(String field) {
        if (field.indexOf('\\') < 0) {
            return field;
        }
        StringBuilder sb = new StringBuilder(field.length());
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

    /** fusermount (libfuse 2's, or fuse3's under that name) or fusermount3, whichever is installed. */
    static String fusermount() {
        for (String dir : List.of("/usr/bin", "/bin", "/usr/local/bin")) {
            for (String name : List.of("fusermount", "fusermount3")) {
                if (Files.isExecutable(Path.of(dir, name))) {
                    return dir + "/" + name;
                }
            }
        }
        return "fusermount";
    }
}
