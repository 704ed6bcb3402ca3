package io.hangar.frontend.fuse.lowlevel;

import io.hangar.frontend.fuse.MountSpec;
import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import java.util.Map;

/**
 * The options of libfuse 3's low-level API beyond {@code MountSpec}'s, parsed from the same
 * {@code Frontend#start} options:
 * <ul>
 * <li>{@value #NEGATIVE_TIMEOUT}: seconds the kernel remembers that a name does not exist (default 0: a
 * name another client creates shows at once);
 * <li>{@value #WRITEBACK_CACHE}: the kernel's writeback cache ({@code true|false}, default false);
 * <li>{@value #MAX_BACKGROUND} (default 64) and {@value #CONGESTION_THRESHOLD} (default 48): asynchronous
 * requests (read-ahead, async direct I/O) the kernel keeps in flight;
 * <li>{@value #MAX_THREADS} (default 32): worker threads of libfuse's loop (blocking lock waits hold one each).
 * </ul>
 */
public record LowLevelOptions(double negativeTimeout, boolean writebackCache, int maxBackground,
        int congestionThreshold, int maxThreads) {
    public static final String NEGATIVE_TIMEOUT = "negativeTimeout";
    public static final String WRITEBACK_CACHE = "writebackCache";
    public static final String MAX_BACKGROUND = "maxBackground";
    public static final String CONGESTION_THRESHOLD = "congestionThreshold";
    public static final String MAX_THREADS = "maxThreads";

    public static LowLevelOptions parse(Map<String, String> options) throws FsException {
        int background = integer(options, MAX_BACKGROUND, 64, 1, 65535);
        int congestion = integer(options, CONGESTION_THRESHOLD, Math.max(1, background * 3 / 4), 1, 65535);
        return new LowLevelOptions(seconds(options, NEGATIVE_TIMEOUT, 0), bool(options, WRITEBACK_CACHE),
                background, Math.min(congestion, background), integer(options, MAX_THREADS, 32, 2, 1024));
    }

    private static boolean bool(Map<String, String> options, String key) throws FsException {
        String v = options.getOrDefault(key, "false").trim();
        if (v.isEmpty()) {
            return false;
        }
        if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(v);
        }
        throw new FsException(Errno.EINVAL, key + " must be true or false, not '" + v + "'");
    }

    private static double seconds(Map<String, String> options, String key, double dflt) throws FsException {
        String v = options.getOrDefault(key, "").trim();
        return v.isEmpty() ? dflt : MountSpec.seconds(key, v);
    }

    private static int integer(Map<String, String> options, String key, int dflt, int min, int max)
            throws FsException {
        String v = options.getOrDefault(key, "").trim();
        if (v.isEmpty()) {
            return dflt;
        }
        try {
            int i = Integer.parseInt(v);
            if (i >= min && i <= max) {
                return i;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new FsException(Errno.EINVAL, key + " must be an integer from " + min + " to " + max + ", not '" + v + "'");
    }
}
