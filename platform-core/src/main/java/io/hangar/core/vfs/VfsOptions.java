package io.hangar.core.vfs;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Tuning of one open volume. {@code bufferSize} bounds the memory of write buffers (uploads in flight
 * included); {@code cacheSize} bounds the in-memory block cache that read-ahead fills. {@code cacheDirs}
 * (none: no disk cache) hold the disk block cache, at most {@code diskCacheSize} bytes in all, never filling
 * a disk past {@code freeSpaceRatio} free; {@code cacheWrites} keeps written blocks there too. {@code cacheGroup}
 * (empty: none) names the cache group this process joins at {@code groupAddress} ({@code HOST[:PORT]}, empty:
 * this host's address, any port); {@code noSharing} joins it as a client that owns no blocks.
 */
public record VfsOptions(long bufferSize, long cacheSize, long readAhead, int uploadThreads, int readThreads,
        long storeWaitMs, int compactThreshold, long sessionTimeoutMs, List<Path> cacheDirs, long diskCacheSize,
        double freeSpaceRatio, boolean cacheWrites, String cacheGroup, String groupAddress, boolean noSharing) {

    public static final VfsOptions DEFAULTS = new VfsOptions(256L << 20, 512L << 20, 64L << 20, 16, 8, 300_000, 24,
            300_000, List.of(), 100L << 30, 0.1, false, "", "", false);

    public VfsOptions {
        cacheDirs = List.copyOf(cacheDirs);
        cacheGroup = cacheGroup == null ? "" : cacheGroup.trim();
        groupAddress = groupAddress == null ? "" : groupAddress.trim();
    }

    /** Reads the option names documented on {@code Volumes.open}; absent names keep their defaults. */
    public static VfsOptions parse(Map<String, ?> m) {
        VfsOptions d = DEFAULTS;
        return new VfsOptions(
                bytes(m, "buffer-size", d.bufferSize),
                bytes(m, "cache-size", d.cacheSize),
                bytes(m, "read-ahead", d.readAhead),
                (int) number(m, "upload-threads", d.uploadThreads),
                (int) number(m, "read-threads", d.readThreads),
                number(m, "store-wait-ms", d.storeWaitMs),
                (int) number(m, "compact-threshold", d.compactThreshold),
                number(m, "session-timeout-ms", d.sessionTimeoutMs),
                dirs(m, "cache-dir"),
                bytes(m, "disk-cache-size", d.diskCacheSize),
                ratio(m, "free-space-ratio", d.freeSpaceRatio),
                flag(m, "cache-writes", d.cacheWrites),
                text(m, "cache-group"),
                text(m, "group-address"),
                flag(m, "no-sharing", d.noSharing)).validated();
    }

    private static String text(Map<String, ?> m, String key) {
        Object v = m.get(key);
        return v == null ? "" : v.toString().trim();
    }

    /**
     * Cache directories separated by ':' (as JuiceFS's {@code --cache-dir}); empty or {@code memory}: the
     * in-memory cache alone.
     */
    private static List<Path> dirs(Map<String, ?> m, String key) {
        Object v = m.get(key);
        if (v == null || v.toString().isBlank() || v.toString().trim().equals("memory")) {
            return List.of();
        }
        List<Path> out = new ArrayList<>();
        for (String part : v.toString().split(":")) {
            if (part.isBlank()) {
                continue;
            }
            Path p = Path.of(part.trim());
            if (!p.isAbsolute()) {
                throw new IllegalArgumentException(key + ": not an absolute path: " + part);
            }
            out.add(p);
        }
        return out;
    }

    private static double ratio(Map<String, ?> m, String key, double dflt) {
        Object v = m.get(key);
        if (v == null || v.toString().isBlank()) {
            return dflt;
        }
        try {
            double r = Double.parseDouble(v.toString().trim());
            if (!(r >= 0 && r < 1)) {
                throw new IllegalArgumentException(key + ": must be at least 0 and below 1, was " + v);
            }
            return r;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + ": not a number: " + v);
        }
    }

    private static boolean flag(Map<String, ?> m, String key, boolean dflt) {
        Object v = m.get(key);
        if (v == null || v.toString().isBlank()) {
            return dflt;
        }
        return switch (v.toString().trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on", "1" -> true;
            case "false", "no", "off", "0" -> false;
            default -> throw new IllegalArgumentException(key + ": not true or false: " + v);
        };
    }

    private VfsOptions validated() {
        if (bufferSize < (16L << 20)) {
            throw new IllegalArgumentException("buffer-size must be at least 16M, was " + bufferSize);
        }
        if (uploadThreads < 1 || readThreads < 1) {
            throw new IllegalArgumentException("upload-threads and read-threads must be at least 1");
        }
        if (!cacheGroup.isEmpty()) {
            io.hangar.core.cache.CacheGroup.checkName(cacheGroup);
        }
        if (cacheGroup.isEmpty() && (!groupAddress.isEmpty() || noSharing)) {
            throw new IllegalArgumentException("group-address and no-sharing need a cache-group");
        }
        if (diskCacheSize < 0) {
            throw new IllegalArgumentException("disk-cache-size must be >= 0");
        }
        if (cacheSize < 0 || readAhead < 0 || storeWaitMs < 0 || compactThreshold < 2) {
            throw new IllegalArgumentException("cache-size, read-ahead, store-wait-ms must be >= 0 and "
                    + "compact-threshold >= 2");
        }
        return this;
    }

    private static long number(Map<String, ?> m, String key, long dflt) {
        Object v = m.get(key);
        if (v == null || v.toString().isBlank()) {
            return dflt;
        }
        try {
            return Long.parseLong(v.toString().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + ": not a number: " + v);
        }
    }

    private static long bytes(Map<String, ?> m, String key, long dflt) {
        Object v = m.get(key);
        if (v == null || v.toString().isBlank()) {
            return dflt;
        }
        try {
            return parseSize(v.toString());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + ": " + e.getMessage());
        }
    }

    /** Parses sizes like {@code 4194304}, {@code 64K}, {@code 256M}, {@code 1G}, {@code 2GiB}. */
    public static long parseSize(String text) {
        String s = text.trim().toUpperCase(Locale.ROOT).replace("IB", "").replace("B", "");
        long mult = 1;
        if (!s.isEmpty()) {
            switch (s.charAt(s.length() - 1)) {
                case 'K' -> mult = 1L << 10;
                case 'M' -> mult = 1L << 20;
                case 'G' -> mult = 1L << 30;
                case 'T' -> mult = 1L << 40;
                default -> mult = 1;
            }
        }
        if (mult != 1) {
            s = s.substring(0, s.length() - 1);
        }
        try {
            long n = Long.parseLong(s.trim());
            if (n < 0) {
                throw new IllegalArgumentException("negative size: " + text);
            }
            return Math.multiplyExact(n, mult);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("not a size: " + text);
        }
    }
}
