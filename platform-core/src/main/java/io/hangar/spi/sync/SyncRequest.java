package io.hangar.spi.sync;

/**
 * Sync the tree at {@code path} (a directory or a file; "/" for the whole volume) to the same path at the
 * destination, then, with {@code warm}, warm it into the destination's cache group. {@code reason} is shown
 * in status and logs.
 */
public record SyncRequest(String path, boolean warm, String reason) {
    public SyncRequest {
        if (!isNormalPath(path)) {
            throw new IllegalArgumentException("not an absolute, normalized path: " + path);
        }
    }

    /** "/" or "/a/b": absolute, no empty, "." or ".." name, no trailing '/', no NUL. */
    public static boolean isNormalPath(String path) {
        if (path == null || !path.startsWith("/") || path.indexOf('\0') >= 0) {
            return false;
        }
        if (path.equals("/")) {
            return true;
        }
        for (String n : path.substring(1).split("/", -1)) {
            if (n.isEmpty() || n.equals(".") || n.equals("..")) {
                return false;
            }
        }
        return true;
    }
}
