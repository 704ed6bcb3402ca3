package io.hangar.frontend.fuse;

import io.hangar.frontend.fuse.setup.FuseSetup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the system says about mounts: /proc/self/mountinfo and the fusermount3 tool. */
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

    /** fusermount3 ({@link FuseSetup#fusermount}); by its bare name when it is not installed. */
    static String fusermount() {
        return FuseSetup.fusermount().map(Path::toString).orElse(FuseSetup.FUSERMOUNT);
    }
}
