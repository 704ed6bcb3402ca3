package io.hangar.cli;

import java.util.Locale;

/** Byte sizes as people write them: 4M, 64K, 1G, 2GiB, or a plain number of bytes. */
final class Sizes {
    private Sizes() {
    }

    static long parse(String text) {
        String s = text.trim().toUpperCase(Locale.ROOT);
        s = s.endsWith("IB") ? s.substring(0, s.length() - 2) : s.endsWith("B") ? s.substring(0, s.length() - 1) : s;
        long mult = 1;
        if (!s.isEmpty()) {
            int shift = "KMGT".indexOf(s.charAt(s.length() - 1));
            if (shift >= 0) {
                mult = 1L << (10 * (shift + 1));
                s = s.substring(0, s.length() - 1);
            }
        }
        try {
            long n = Long.parseLong(s.trim());
            if (n < 0) {
                throw CliException.usage("negative size: " + text);
            }
            return Math.multiplyExact(n, mult);
        } catch (NumberFormatException | ArithmeticException e) {
            throw CliException.usage("not a size: " + text + " (e.g. 4M, 64K, 1G)");
        }
    }

    static String format(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        int u = 0;
        double v = bytes;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return (v == Math.rint(v) ? String.format(Locale.ROOT, "%d", (long) v)
                : String.format(Locale.ROOT, "%.1f", v)) + " " + units[u];
    }
}
