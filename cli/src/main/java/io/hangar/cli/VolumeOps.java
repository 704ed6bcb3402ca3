package io.hangar.cli;

import io.hangar.fs.Attr;
import io.hangar.fs.Caller;
import io.hangar.fs.DirEntry;
import io.hangar.fs.Entry;
import io.hangar.fs.Errno;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.fs.OpenFlags;
import io.hangar.fs.StatFs;
import io.hangar.spi.meta.VolumeFormat;
import io.hangar.vfs.FileHandle;
import io.hangar.vfs.Volume;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The volume operations behind both the command line and the Gogo commands. Files are streamed through
 * one {@link #BUFFER}-sized buffer, so a copy of any size runs in bounded memory (the VFS bounds its own
 * write buffers and read-ahead). {@code put} and {@code get} count their bytes on a {@link Progress} bar,
 * drawn only when the command line runs in a terminal.
 */
public final class VolumeOps {
    /** Copy buffer: one write per MiB keeps the per-call overhead small against 4 MiB blocks. */
    static final int BUFFER = 1 << 20;
    private static final int PAGE = 1000;
    private static final DateTimeFormatter LS_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm")
            .withZone(ZoneId.systemDefault());

    private final Volume volume;
    private final Caller caller;

    public VolumeOps(Volume volume, Caller caller) {
        this.volume = volume;
        this.caller = caller;
    }

    /**
     * Copies a local file into the volume at {@code dest} (into it, when {@code dest} is a directory),
     * replacing an existing file. Returns the number of bytes copied.
     */
    public long put(Path local, String dest) {
        if (Files.isDirectory(local)) {
            throw new CliException(ExitCodes.REFUSED, local + ": is a directory");
        }
        try (FileChannel in = FileChannel.open(local, StandardOpenOption.READ)) {
            Target t = target(dest, local.getFileName().toString());
            try (FileHandle h = t.existing == null
                    ? volume.create(caller, t.parent, t.name, modeOf(local), OpenFlags.WRONLY | OpenFlags.CREAT)
                    : volume.open(caller, t.existing.inode(), OpenFlags.WRONLY | OpenFlags.TRUNC)) {
                byte[] buf = new byte[BUFFER];
                ByteBuffer bb = ByteBuffer.wrap(buf);
                long pos = 0;
                try (Progress progress = Progress.bytes("put " + t.name, in.size())) {
                    while (true) {
                        bb.clear();
                        int n = in.read(bb);
                        if (n < 0) {
                            break;
                        }
                        h.write(pos, buf, 0, n);
                        pos += n;
                        progress.step(n);
                    }
                }
                return pos;
            }
        } catch (FsException e) {
            throw Errors.operating(e);
        } catch (IOException e) {
            throw Errors.local(e, local);
        }
    }

    /**
     * Copies a file of the volume to a local file (into it, when {@code local} is a directory). A regular
     * target is written beside itself and renamed into place, so a failed copy leaves no partial file.
     */
    public long get(String src, Path local) {
        Entry e = resolve(src);
        requireFile(e, src);
        Path dest = Files.isDirectory(local) ? local.resolve(e.name()) : local;
        boolean direct = Files.exists(dest) && !Files.isRegularFile(dest);
        Path tmp = direct ? dest : dest.resolveSibling("." + dest.getFileName() + ".hangar-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        try {
            long n;
            try (OutputStream out = Files.newOutputStream(tmp);
                    Progress progress = Progress.bytes("get " + e.name(), e.attr().length())) {
                n = copyOut(e, out, progress);
            }
            if (!direct) {
                Files.move(tmp, dest, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            return n;
        } catch (IOException ex) {
            throw Errors.local(ex, dest);
        } finally {
            if (!direct) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // Best effort: the copy already failed or succeeded; the error that matters is reported.
                }
            }
        }
    }

    /** Writes a file of the volume to {@code out}. */
    public long cat(String src, OutputStream out) {
        Entry e = resolve(src);
        requireFile(e, src);
        try {
            long n = copyOut(e, out, null);
            out.flush();
            return n;
        } catch (IOException ex) {
            throw new CliException(ExitCodes.FAILURE, "cannot write output: " + ex.getMessage(), ex);
        }
    }

    /** Copies a file of the volume to {@code out}, counting on {@code progress} unless it is null. */
    private long copyOut(Entry e, OutputStream out, Progress progress) throws IOException {
        try (FileHandle h = volume.open(caller, e.inode(), OpenFlags.RDONLY)) {
            byte[] buf = new byte[BUFFER];
            long pos = 0;
            int n;
            while ((n = h.read(pos, buf, 0, buf.length)) > 0) {
                out.write(buf, 0, n);
                pos += n;
                if (progress != null) {
                    progress.step(n);
                }
            }
            return pos;
        } catch (FsException ex) {
            throw Errors.operating(ex);
        }
    }

    /** Lists a directory (or names a file), sorted as the engine pages it; {@code longFormat} as ls -l. */
    public void ls(String path, boolean longFormat, PrintStream out) {
        Entry e = resolve(path);
        if (!e.attr().isDirectory()) {
            out.println(longFormat ? longLine(e.name(), e.attr()) : e.name());
            return;
        }
        try {
            String after = null;
            while (true) {
                List<DirEntry> page = volume.readdir(e.inode(), after, PAGE, longFormat);
                for (DirEntry d : page) {
                    if (d.name().equals(".") || d.name().equals("..")) {
                        continue;
                    }
                    if (longFormat) {
                        Attr a = d.attr() != null ? d.attr() : volume.getattr(d.inode());
                        out.println(longLine(d.name(), a));
                    } else {
                        out.println(d.name());
                    }
                }
                if (page.size() < PAGE) {
                    return;
                }
                after = page.get(page.size() - 1).name();
            }
        } catch (FsException ex) {
            throw Errors.operating(ex);
        }
    }

    private String longLine(String name, Attr a) {
        String line = String.format("%s %3d %5d %5d %12d %s %s", modeString(a), a.nlink(), a.uid(), a.gid(),
                a.length(), LS_TIME.format(Instant.ofEpochSecond(0, a.mtimeNs())), name);
        if (a.type() == FileType.SYMLINK) {
            try {
                line += " -> " + volume.readlink(a.inode());
            } catch (FsException ex) {
                throw Errors.operating(ex);
            }
        }
        return line;
    }

    /** Prints the attributes of a path, one "key: value" per line. */
    public void stat(String path, PrintStream out) {
        Entry e = resolve(path);
        Attr a = e.attr();
        out.println("path:  " + normalize(path));
        out.println("inode: " + a.inode());
        out.println("type:  " + a.type().name().toLowerCase().replace('_', ' '));
        out.println("mode:  " + String.format("%04o (%s)", a.mode(), modeString(a)));
        out.println("uid:   " + a.uid());
        out.println("gid:   " + a.gid());
        out.println("links: " + a.nlink());
        out.println("size:  " + a.length());
        out.println("atime: " + Instant.ofEpochSecond(0, a.atimeNs()));
        out.println("mtime: " + Instant.ofEpochSecond(0, a.mtimeNs()));
        out.println("ctime: " + Instant.ofEpochSecond(0, a.ctimeNs()));
    }

    /** Removes a file, symlink or empty directory; with {@code recursive} a whole tree. */
    public void rm(String path, boolean recursive) {
        Entry e = resolve(path);
        if (e.inode() == Volume.ROOT) {
            throw new CliException(ExitCodes.REFUSED, "refusing to remove /");
        }
        try {
            if (e.attr().isDirectory()) {
                if (recursive) {
                    emptyDirectory(e.inode());
                }
                volume.rmdir(caller, e.parent(), e.name());
            } else {
                volume.unlink(caller, e.parent(), e.name());
            }
        } catch (FsException ex) {
            if (ex.errno() == Errno.ENOTEMPTY) {
                throw new CliException(ExitCodes.REFUSED, normalize(path) + ": directory not empty (use -r)", ex);
            }
            throw Errors.operating(ex);
        }
    }

    private void emptyDirectory(long dir) throws FsException {
        // Always list from the start: the entries just removed no longer page.
        while (true) {
            List<DirEntry> page = volume.readdir(dir, null, PAGE, false);
            boolean removed = false;
            for (DirEntry d : page) {
                if (d.name().equals(".") || d.name().equals("..")) {
                    continue;
                }
                removed = true;
                if (d.type() == FileType.DIRECTORY) {
                    emptyDirectory(d.inode());
                    volume.rmdir(caller, dir, d.name());
                } else {
                    volume.unlink(caller, dir, d.name());
                }
            }
            if (!removed) {
                return;
            }
        }
    }

    /** Creates a directory; with {@code parents} the missing parents too, and an existing one is fine. */
    public void mkdir(String path, boolean parents) {
        List<String> parts = parts(path);
        if (parts.isEmpty()) {
            if (parents) {
                return;
            }
            throw new CliException(ExitCodes.REFUSED, "/: exists");
        }
        try {
            long dir = Volume.ROOT;
            StringBuilder at = new StringBuilder();
            for (int i = 0; i < parts.size(); i++) {
                String name = parts.get(i);
                at.append('/').append(name);
                boolean last = i == parts.size() - 1;
                Entry child = lookup(dir, name);
                if (child == null) {
                    if (!last && !parents) {
                        throw new CliException(ExitCodes.NOT_FOUND, at + ": no such directory (use -p)");
                    }
                    child = volume.mkdir(caller, dir, name, 0755);
                } else if (!child.attr().isDirectory()) {
                    throw new CliException(ExitCodes.REFUSED, at + ": exists and is not a directory");
                } else if (last && !parents) {
                    throw new CliException(ExitCodes.REFUSED, at + ": exists");
                }
                dir = child.inode();
            }
        } catch (FsException ex) {
            throw Errors.operating(ex);
        }
    }

    /** Prints the settings a volume was formatted with, and its usage when {@code usage} is known. */
    public static void printStatus(VolumeFormat f, StatFs usage, String state, PrintStream out) {
        out.println("name:       " + f.name());
        out.println("uuid:       " + f.uuid());
        out.println("storage:    " + f.storage());
        out.println("block size: " + Sizes.format(f.blockSize()));
        out.println("chunk size: " + Sizes.format(f.chunkSize()));
        out.println("capacity:   " + (f.capacityBytes() == 0 ? "unlimited" : Sizes.format(f.capacityBytes())));
        out.println("inodes:     " + (f.inodeLimit() == 0 ? "unlimited" : Long.toString(f.inodeLimit())));
        out.println("created:    " + Instant.ofEpochMilli(f.createdMs()));
        if (usage != null) {
            out.println("used:       " + Sizes.format(usage.usedBytes()) + " in " + usage.usedInodes() + " inodes");
        }
        if (state != null) {
            out.println("state:      " + state);
        }
    }

    /** Resolves a path from the root; ENOENT becomes a "no such file" line naming the path. */
    Entry resolve(String path) {
        try {
            return volume.resolve(normalize(path));
        } catch (FsException e) {
            if (e.errno() == Errno.ENOENT) {
                throw new CliException(ExitCodes.NOT_FOUND, normalize(path) + ": no such file or directory", e);
            }
            throw Errors.operating(e);
        }
    }

    private void requireFile(Entry e, String path) {
        if (e.attr().isDirectory()) {
            throw new CliException(ExitCodes.REFUSED, normalize(path) + ": is a directory");
        }
        if (e.attr().type() != FileType.FILE) {
            throw new CliException(ExitCodes.REFUSED, normalize(path) + ": not a regular file");
        }
    }

    /** Where a copy into {@code dest} lands: into a directory under {@code defaultName}, else at dest. */
    private Target target(String dest, String defaultName) throws FsException {
        List<String> parts = parts(dest);
        Entry at = parts.isEmpty() ? resolve("/") : lookupPath(parts);
        if (at != null && at.attr().isDirectory()) {
            return new Target(at.inode(), defaultName, lookup(at.inode(), defaultName));
        }
        String parentPath = "/" + String.join("/", parts.subList(0, parts.size() - 1));
        Entry parent = resolve(parentPath);
        if (!parent.attr().isDirectory()) {
            throw new CliException(ExitCodes.REFUSED, parentPath + ": not a directory");
        }
        return new Target(parent.inode(), parts.get(parts.size() - 1), at);
    }

    private Entry lookupPath(List<String> parts) {
        try {
            return volume.resolve("/" + String.join("/", parts));
        } catch (FsException e) {
            if (e.errno() == Errno.ENOENT) {
                return null;
            }
            throw Errors.operating(e);
        }
    }

    private Entry lookup(long dir, String name) throws FsException {
        try {
            return volume.lookup(dir, name);
        } catch (FsException e) {
            if (e.errno() == Errno.ENOENT) {
                return null;
            }
            throw e;
        }
    }

    private record Target(long parent, String name, Entry existing) {
    }

    static String normalize(String path) {
        return "/" + String.join("/", parts(path));
    }

    private static List<String> parts(String path) {
        List<String> out = new ArrayList<>();
        for (String p : path.split("/")) {
            if (p.isEmpty() || p.equals(".")) {
                continue;
            }
            if (p.equals("..")) {
                if (!out.isEmpty()) {
                    out.remove(out.size() - 1);
                }
                continue;
            }
            out.add(p);
        }
        return out;
    }

    private static int modeOf(Path local) {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(local, LinkOption.NOFOLLOW_LINKS);
            int mode = 0;
            for (PosixFilePermission p : perms) {
                mode |= 1 << (8 - p.ordinal());
            }
            return mode;
        } catch (NoSuchFileException e) {
            throw Errors.local(e, local);
        } catch (IOException | UnsupportedOperationException e) {
            return 0644;
        }
    }

    static String modeString(Attr a) {
        char type = switch (a.type()) {
            case DIRECTORY -> 'd';
            case SYMLINK -> 'l';
            case FIFO -> 'p';
            case SOCKET -> 's';
            case CHAR_DEVICE -> 'c';
            case BLOCK_DEVICE -> 'b';
            default -> '-';
        };
        StringBuilder sb = new StringBuilder().append(type);
        String rwx = "rwxrwxrwx";
        for (int i = 0; i < 9; i++) {
            sb.append((a.mode() & (1 << (8 - i))) != 0 ? rwx.charAt(i) : '-');
        }
        return sb.toString();
    }
}
