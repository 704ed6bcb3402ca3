package io.hangar.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The disk block cache of a command that serves a volume in a runtime of its own (mount, gateway): named as
 * JuiceFS names them, checked here as the volume will check them, and written into the volume's configuration.
 */
final class VolumeCacheOptions {
    @Option(names = "--cache-dir", paramLabel = "DIR[:DIR...]",
            description = "Directories of the disk block cache, separated by ':' (blocks spread by hash); "
                    + "'memory': the in-memory cache alone (the default).")
    String cacheDir;
    @Option(names = "--disk-cache-size", paramLabel = "SIZE",
            description = "The disk cache's size in all its directories, e.g. 500G (default 100G).")
    String diskCacheSize;
    @Option(names = "--free-space-ratio", paramLabel = "RATIO",
            description = "Keep at least this share of a cache disk free, e.g. 0.1 (the default).")
    String freeSpaceRatio;
    @Option(names = "--cache-writes", description = "Keep written blocks in the disk cache too.")
    boolean cacheWrites;
    @Option(names = "--cache-group", paramLabel = "NAME",
            description = "Join this cache group: the volume's processes in it share their block caches, each "
                    + "block fetched from the object store once, by its owner.")
    String cacheGroup;
    @Option(names = "--group-address", paramLabel = "HOST[:PORT]",
            description = "Where the group's other members reach this one (default: this host's first "
                    + "non-loopback IPv4 address, any free port).")
    String groupAddress;
    @Option(names = "--no-sharing", description = "Join the cache group as a client: fetch from the owners, own "
            + "no blocks.")
    boolean noSharing;

    /**
     * The directories made absolute, then every option parsed as the volume parses it: a bad value fails
     * here, in one line (exit 2).
     */
    void check() {
        if (cacheDir != null && !cacheDir.isBlank() && !cacheDir.trim().equals("memory")) {
            List<String> abs = new ArrayList<>();
            for (String part : cacheDir.split(":")) {
                if (!part.isBlank()) {
                    abs.add(Path.of(part.trim()).toAbsolutePath().normalize().toString());
                }
            }
            cacheDir = String.join(":", abs);
        }
        Map<String, String> m = new HashMap<>();
        put(m, "cache-dir", cacheDir);
        put(m, "disk-cache-size", diskCacheSize);
        put(m, "free-space-ratio", freeSpaceRatio);
        m.put("cache-writes", Boolean.toString(cacheWrites));
        put(m, "cache-group", cacheGroup);
        put(m, "group-address", groupAddress);
        m.put("no-sharing", Boolean.toString(noSharing));
        try {
            io.hangar.vfs.standalone.Volumes.dataMemory(m); // parses every option
        } catch (IllegalArgumentException e) {
            throw new CliException(ExitCodes.USAGE, e.getMessage());
        }
    }

    /** The heap the cache's index may take on a volume of {@code blockSize} (after {@link #check}). */
    long indexHeapBytes(int blockSize) {
        Map<String, String> m = new HashMap<>();
        put(m, "cache-dir", cacheDir);
        put(m, "disk-cache-size", diskCacheSize);
        return io.hangar.vfs.standalone.Volumes.diskCacheIndexBytes(m, blockSize);
    }

    /**
     * Native memory the caches hold besides the memory options: blocks waiting for the disk cache's writer, and
     * blocks being served to the cache group's members.
     */
    long writerBacklogBytes() {
        boolean on = cacheDir != null && !cacheDir.isBlank() && !cacheDir.trim().equals("memory");
        boolean group = cacheGroup != null && !cacheGroup.isBlank();
        return (on ? io.hangar.core.cache.DiskBlockCache.MAX_PENDING : 0)
                + (group ? io.hangar.core.cache.CacheGroup.SERVING_MEMORY : 0);
    }

    /** Adds the options given to an {@code io.hangar.volume} configuration (call {@link #check} first). */
    void addTo(Map<String, String> volumeConfig) {
        put(volumeConfig, "cacheDir", cacheDir);
        put(volumeConfig, "diskCacheSize", diskCacheSize);
        put(volumeConfig, "freeSpaceRatio", freeSpaceRatio);
        if (cacheWrites) {
            volumeConfig.put("cacheWrites", "true");
        }
        put(volumeConfig, "cacheGroup", cacheGroup);
        put(volumeConfig, "groupAddress", groupAddress);
        if (noSharing) {
            volumeConfig.put("noSharing", "true");
        }
    }

    private static void put(Map<String, String> m, String key, String value) {
        if (value != null) {
            m.put(key, value);
        }
    }
}
