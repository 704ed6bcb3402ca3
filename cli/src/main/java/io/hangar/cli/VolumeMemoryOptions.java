package io.hangar.cli;

import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The memory options of a command that serves a volume in a runtime of its own (mount, gateway): they go
 * into the volume's configuration, and the runtime's JVM is sized from them (RuntimeLauncher.memoryFor).
 */
final class VolumeMemoryOptions {
    @Option(names = "--buffer-size", paramLabel = "SIZE",
            description = "The volume's memory for write buffers and read-ahead, e.g. 256M (default 256M).")
    String bufferSize;
    @Option(names = "--cache-size", paramLabel = "SIZE",
            description = "The volume's block cache, e.g. 512M (default 512M).")
    String cacheSize;
    @Option(names = "--read-ahead", paramLabel = "SIZE",
            description = "The largest read-ahead window of one open file, e.g. 64M (default 64M).")
    String readAhead;

    /**
     * Buffers + cache in bytes, parsed as the volume parses them, so that a bad size fails here in one line
     * (exit 2).
     */
    long dataMemory() {
        Map<String, String> m = new HashMap<>();
        put(m, "buffer-size", bufferSize);
        put(m, "cache-size", cacheSize);
        put(m, "read-ahead", readAhead);
        try {
            return io.hangar.vfs.standalone.Volumes.dataMemory(m);
        } catch (IllegalArgumentException e) {
            throw new CliException(ExitCodes.USAGE, e.getMessage());
        }
    }

    /** Adds the options given to an {@code io.hangar.volume} configuration. */
    void addTo(Map<String, String> volumeConfig) {
        put(volumeConfig, "bufferSize", bufferSize);
        put(volumeConfig, "cacheSize", cacheSize);
        put(volumeConfig, "readAhead", readAhead);
    }

    private static void put(Map<String, String> m, String key, String value) {
        if (value != null) {
            m.put(key, value);
        }
    }
}
