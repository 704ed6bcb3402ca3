package io.hangar.core.vfs;

import java.util.Locale;
import java.util.Map;

/**
 * Tuning of one open volume. {@code bufferSize} bounds the memory of write buffers (uploads in flight
 * included); {@code cacheSize} bounds the in-memory block cache that read-ahead fills.
 */
public record VfsOptions(long bufferSize, long cacheSize, long readAhead, int uploadThreads, int readThreads,
        long storeWaitMs, int compactThreshold, long sessionTimeoutMs) {

    public static final VfsOptions DEFAULTS = new VfsOptions(256L << 20, 512L << 20, 64L << 20, 16, 8, 300_000, 24,
            300_000);

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
                number(m, "session-timeout-ms", d.sessionTimeoutMs)).validated();
    }

    private VfsOptions validated() {
        if (bufferSize < (16L << 20)) {
            throw new IllegalArgumentException("buffer-size must be at least 16M, was " + bufferSize);
        }
        if (uploadThreads < 1 || readThreads < 1) {
            throw new IllegalArgumentException("upload-threads and read-threads must be at least 1");
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
