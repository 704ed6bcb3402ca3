package io.hangar.frontend.fuse;

import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.spi.frontend.Frontend;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What one FUSE mount serves and how, parsed from {@link Frontend#start} options:
 * <ul>
 * <li>{@value #MOUNTPOINT} (required): an existing, empty directory;
 * <li>{@value Frontend#OPTION_READ_ONLY}: {@code true|false} (default false);
 * <li>{@value Frontend#OPTION_SUBDIR}: directory of the volume to serve as the root (default "/");
 * <li>{@value #ATTR_TIMEOUT}, {@value #ENTRY_TIMEOUT}: seconds the kernel trusts attributes and names
 * (default 1.0; 0 asks the volume every time);
 * <li>{@value #OPTIONS}: further {@code -o} options for libfuse, comma-separated (e.g. {@code nonempty}).
 * </ul>
 */
public record MountSpec(Path mountpoint, boolean readOnly, String subdir, double attrTimeout, double entryTimeout,
        List<String> extraOptions) {
    static final String MOUNTPOINT = "mountpoint";
    static final String ATTR_TIMEOUT = "attrTimeout";
    static final String ENTRY_TIMEOUT = "entryTimeout";
    static final String OPTIONS = "options";
    /** libfuse 2 caps a write request at 128 KiB whatever max_write asks for. */
    static final int MAX_WRITE = 131072;
    private static final Pattern OPTION = Pattern.compile("[A-Za-z0-9_]+(=[^,\\s]+)?");

    static MountSpec parse(Map<String, String> options) throws FsException {
        String mp = options.get(MOUNTPOINT);
        if (mp == null || mp.isBlank()) {
            throw new FsException(Errno.EINVAL, "no mountpoint given");
        }
        String subdir = options.getOrDefault(Frontend.OPTION_SUBDIR, "/");
        if (subdir.isBlank()) {
            subdir = "/";
        }
        if (!subdir.startsWith("/")) {
            throw new FsException(Errno.EINVAL, "subdir must be an absolute path in the volume: " + subdir);
        }
        for (String part : subdir.split("/")) {
            if (part.equals("..") || part.equals(".")) {
                throw new FsException(Errno.EINVAL, "subdir may not contain '.' or '..': " + subdir);
            }
        }
        List<String> extra = new ArrayList<>();
        String given = options.getOrDefault(OPTIONS, "").trim();
        if (!given.isEmpty()) {
            for (String o : given.split(",")) {
                if (!OPTION.matcher(o.trim()).matches()) {
                    throw new FsException(Errno.EINVAL, "malformed FUSE option '" + o + "'");
                }
                extra.add(o.trim());
            }
        }
        return new MountSpec(Path.of(mp).toAbsolutePath().normalize(),
                bool(options, Frontend.OPTION_READ_ONLY), subdir,
                seconds(options, ATTR_TIMEOUT), seconds(options, ENTRY_TIMEOUT), List.copyOf(extra));
    }

    private static boolean bool(Map<String, String> options, String key) throws FsException {
        String v = options.getOrDefault(key, "false").trim();
        if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(v);
        }
        throw new FsException(Errno.EINVAL, key + " must be true or false, not '" + v + "'");
    }

    private static double seconds(Map<String, String> options, String key) throws FsException {
        String v = options.getOrDefault(key, "1.0").trim();
        try {
            double d = Double.parseDouble(v);
            if (d >= 0 && d <= 86_400) {
                return d;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new FsException(Errno.EINVAL, key + " must be seconds between 0 and 86400, not '" + v + "'");
    }

    /** The libfuse command line: foreground, multi-threaded, and the -o options that make it POSIX. */
    List<String> fuseArguments(String volumeName, boolean root) {
        List<String> o = new ArrayList<>();
        o.add("fsname=hangar:" + volumeName);
        o.add("subtype=hangar");
        // The kernel checks permissions against the attributes reported: one authority, no races.
        o.add("default_permissions");
        if (root) {
            o.add("allow_other");
        }
        // Our inode numbers are st_ino: hard links show as one file. (No hard_remove: libfuse's hiding of
        // unlinked open files is what keeps fstat working on them; HangarFs turns it into a real unlink.)
        o.add("use_ino");
        o.add("big_writes");
        o.add("max_write=" + MAX_WRITE);
        // open(O_TRUNC) arrives as one open instead of a truncate followed by an open.
        o.add("atomic_o_trunc");
        o.add("attr_timeout=" + attrTimeout);
        o.add("entry_timeout=" + entryTimeout);
        if (readOnly) {
            o.add("ro");
        }
        o.addAll(extraOptions);
        List<String> args = new ArrayList<>();
        args.add("hangar");
        args.add("-f");
        args.add(mountpoint.toString());
        args.add("-o");
        args.add(String.join(",", o));
        return args;
    }
}
