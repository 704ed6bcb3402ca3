package io.hangar.frontend.fuse;

import io.hangar.fs.Attr;
import io.hangar.fs.Entry;
import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.vfs.Volume;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns the paths libfuse's high-level API hands over ("/a/b/c", relative to the mount) into inodes under the
 * mount's root inode (the volume root, or the subdir the mount is confined to). A path cannot leave the root:
 * the kernel resolves ".." itself and never sends it, and a "." or ".." component that arrives anyway is
 * refused rather than handed to the engine, which would resolve it. Symlinks are never followed here; their
 * targets are strings the kernel interprets.
 *
 * <p>Files libfuse hides (an open file unlinked here is renamed to {@code .fuse_hidden<16 hex>} so that
 * fstat and friends keep a path) are really unlinked in the volume; their hidden names resolve to the inode
 * from a table of this mount's until the last close (after which libfuse's unlink of the hidden name finds
 * nothing, as it should).
 *
 * <p>Directory inodes are remembered for the entry timeout, the same time the kernel trusts a name, so a
 * deep path costs one lookup instead of one per component. This mount's own renames and removals drop the
 * affected paths at once; another client's take effect within the timeout, as in the kernel's own cache.
 */
final class PathResolver {
    private static final int MAX_CACHED = 65_536;

    private record Cached(long inode, long expiresNs) {
    }

    private final Volume volume;
    private final long root;
    private final long ttlNs;
    private final ConcurrentHashMap<String, Cached> dirs = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Long> hidden = new ConcurrentHashMap<>();

    PathResolver(Volume volume, long root, double entryTimeoutSeconds) {
        this.volume = volume;
        this.root = root;
        this.ttlNs = (long) (entryTimeoutSeconds * 1e9);
    }

    /** The entry a path names; for "/" the root itself. */
    Entry entry(String path) throws FsException {
        if (path.equals("/")) {
            Attr a = volume.getattr(root);
            return new Entry(a.parent(), "/", a);
        }
        int slash = path.lastIndexOf('/');
        String name = name(path.substring(slash + 1));
        Long h = hidden.isEmpty() ? null : hidden.get(name);
        if (h != null) {
            Attr a = volume.getattr(h);
            return new Entry(a.parent(), name, a);
        }
        Entry e = volume.lookup(directory(path.substring(0, slash)), name);
        if (e.attr().isDirectory()) {
            remember(path, e.inode());
        }
        return e;
    }

    /** Whether {@code name} is one libfuse gives a file it hides: .fuse_hidden and 16 hex digits. */
    static boolean hiddenName(String name) {
        return name.length() == 28 && name.startsWith(".fuse_hidden")
                && name.substring(12).chars().allMatch(c -> Character.digit(c, 16) >= 0);
    }

    /** Lets {@code name} stand for the unlinked, still open {@code inode}. */
    void hide(String name, long inode) {
        hidden.put(name, inode);
    }

    boolean hasHidden() {
        return !hidden.isEmpty();
    }

    /** Forgets the hidden names of {@code inode}: its last handle in this mount is closed. */
    void unhide(long inode) {
        hidden.values().removeIf(i -> i == inode);
    }

    long inode(String path) throws FsException {
        return path.equals("/") ? root : entry(path).inode();
    }

    /** The inode of the directory holding the last component of {@code path}. */
    long parent(String path) throws FsException {
        return directory(path.substring(0, path.lastIndexOf('/')));
    }

    /** The last component of {@code path}, checked like every other component. */
    static String name(String path) throws FsException {
        String name = path.substring(path.lastIndexOf('/') + 1);
        if (name.isEmpty() || name.equals(".") || name.equals("..")) {
            throw new FsException(Errno.EINVAL, "path component '" + name + "' is not a name");
        }
        return name;
    }

    /** Resolves a directory path ("" for the root); ENOTDIR if a component is something else. */
    private long directory(String path) throws FsException {
        if (path.isEmpty()) {
            return root;
        }
        if (ttlNs > 0) {
            Cached c = dirs.get(path);
            if (c != null && c.expiresNs - System.nanoTime() > 0) {
                return c.inode;
            }
        }
        int slash = path.lastIndexOf('/');
        Entry e = volume.lookup(directory(path.substring(0, slash)), name(path.substring(slash + 1)));
        if (!e.attr().isDirectory()) {
            throw new FsException(Errno.ENOTDIR, path + " is not a directory");
        }
        remember(path, e.inode());
        return e.inode();
    }

    private void remember(String path, long inode) {
        if (ttlNs <= 0) {
            return;
        }
        if (dirs.size() >= MAX_CACHED) {
            dirs.clear();
        }
        dirs.put(path, new Cached(inode, System.nanoTime() + ttlNs));
    }

    /** Forgets {@code path} and everything below it: it was renamed, removed or replaced here. */
    void forget(String path) {
        if (dirs.isEmpty()) {
            return;
        }
        String prefix = path + "/";
        dirs.keySet().removeIf(p -> p.equals(path) || p.startsWith(prefix));
    }
}
