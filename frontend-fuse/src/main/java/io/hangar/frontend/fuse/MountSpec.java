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
 * <li>{@value #OPTIONS}: further {@code -o} mount options for libfuse, comma-separated (e.g. {@code nonempty},
 * which mounts over a non-empty directory).
 * </ul>
 */
public record MountSpec(Path mountpoint, boolean readOnly, String subdir, double attrTimeout, double entryTimeout,
        List<String> extraOptions) {
    static final String MOUNTPOINT = "mountpoint";
    static final String ATTR_TIMEOUT = "attrTimeout";
    static final String ENTRY_TIMEOUT = "entryTimeout";
    static final String OPTIONS = "options";
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
        return seconds(key, options.getOrDefault(key, "1.0"));
    }

    /** A timeout option: seconds from 0 to 86400, EINVAL otherwise. */
    public static double seconds(String key, String value) throws FsException {
        String v = value.trim();
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

    /**
     * The mount options libfuse 3 takes ({@code fuse_session_new}'s {@code -o}): names in /proc/mounts
     * ({@code hangar:<volume> … fuse.hangar}), the kernel's permission checks, {@code allow_other} only as
     * root, {@code ro}, and the extra options but {@code nonempty} (libfuse 3 has no such option; the mount
     * point's emptiness is checked before mounting). Timeouts are not mount options: every reply carries them.
     */
    public List<String> mountOptions(String volumeName, boolean allowOther) {
        List<String> o = new ArrayList<>();
        o.add("fsname=hangar:" + volumeName);
        o.add("subtype=hangar");
        // The kernel checks permissions against the attributes reported: one authority, no races.
        o.add("default_permissions");
        if (allowOther) {
            o.add("allow_other");
        }
        if (readOnly) {
            o.add("ro");
        }
        for (String x : extraOptions) {
            if (!x.equals("nonempty")) {
                o.add(x);
            }
        }
        return o;
    }
}
