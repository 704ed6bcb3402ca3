package io.hangar.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A serving runtime's JVM is sized from the volume's memory options, not from the machine. */
class RuntimeMemoryTest {
    @TempDir
    Path dir;

    private static VolumeMemoryOptions parse(String... args) {
        VolumeMemoryOptions o = new VolumeMemoryOptions();
        new CommandLine(o).parseArgs(args);
        return o;
    }

    @Test
    void defaultsGiveDirectMemoryForBuffersCacheAndSlackAndASmallHeap() {
        long data = parse().dataMemory();
        assertEquals((256L + 512) << 20, data, "bufferSize 256M + cacheSize 512M");
        RuntimeLauncher l = new RuntimeLauncher(dir, dir.resolve("etc")).memoryFor(data);
        assertEquals(List.of("-Xms32m", "-Xmx256m", "-XX:MaxDirectMemorySize=1024m"), l.memoryOptions());
    }

    @Test
    void optionsChangeTheLimitsAndGoIntoTheVolumeConfiguration() {
        VolumeMemoryOptions o = parse("--buffer-size", "64M", "--cache-size", "1G", "--read-ahead", "16M");
        RuntimeLauncher l = new RuntimeLauncher(dir, dir.resolve("etc")).memoryFor(o.dataMemory());
        assertEquals(List.of("-Xms32m", "-Xmx256m", "-XX:MaxDirectMemorySize=" + (64 + 1024 + 256) + "m"),
                l.memoryOptions());
        var config = new java.util.LinkedHashMap<String, String>();
        o.addTo(config);
        assertEquals(java.util.Map.of("bufferSize", "64M", "cacheSize", "1G", "readAhead", "16M"), config);
    }

    @Test
    void aDiskCacheAddsItsIndexToTheHeap() {
        VolumeCacheOptions c = new VolumeCacheOptions();
        c.cacheDir = "/var/cache/hangar";
        c.diskCacheSize = "1T";
        c.check();
        long index = c.indexHeapBytes(4 << 20); // 262,144 blocks of 4 MiB
        assertEquals(262_144L * io.hangar.core.cache.DiskBlockCache.INDEX_BYTES_PER_BLOCK, index);
        RuntimeLauncher l = new RuntimeLauncher(dir, dir.resolve("etc")).memoryFor(parse().dataMemory(), index);
        assertEquals("-Xmx" + (256 + 40) + "m", l.memoryOptions().get(1), "40 MiB of index on top of the 256 MiB");
        VolumeCacheOptions none = new VolumeCacheOptions();
        none.check();
        assertEquals(0, none.indexHeapBytes(4 << 20), "no cache directory, no index");
        assertEquals(64L << 20, c.writerBacklogBytes(), "the writer's backlog goes into direct memory");
        assertEquals(0, none.writerBacklogBytes());
    }

    @Test
    void aGatewaysRuntimeAddsItsBodyBufferAndConnectionsToTheVolumes() {
        GatewayCommand g = new GatewayCommand();
        new CommandLine(g).parseArgs();
        RuntimeLauncher l = g.size(new RuntimeLauncher(dir, dir.resolve("etc")), 4 << 20);
        // Heap: 256 + the 64M body buffer + 16M of XML bodies + 512 connections x 256K; direct: the volume's
        // 768M + 256M of slack + the body buffer (Netty's copies of downloads) + 512 x 64K of socket buffers.
        assertEquals(List.of("-Xms32m", "-Xmx" + (256 + 64 + 16 + 128) + "m",
                "-XX:MaxDirectMemorySize=" + (768 + 256 + 64 + 32) + "m"), l.memoryOptions());
        g = new GatewayCommand();
        new CommandLine(g).parseArgs("--body-buffer", "256M", "--max-connections", "64", "--cache-size", "128M");
        l = g.size(new RuntimeLauncher(dir, dir.resolve("etc")), 4 << 20);
        assertEquals(List.of("-Xms32m", "-Xmx" + (256 + 256 + 16 + 16) + "m",
                "-XX:MaxDirectMemorySize=" + (256 + 128 + 256 + 256 + 4) + "m"), l.memoryOptions());
        GatewayCommand bad = new GatewayCommand();
        new CommandLine(bad).parseArgs("--body-buffer", "100K");
        assertEquals(ExitCodes.USAGE, assertThrows(CliException.class, bad::bodyBufferBytes).exitCode());
    }

    @Test
    void aBadSizeIsAUsageErrorInOneLine() {
        CliException e = assertThrows(CliException.class, () -> parse("--buffer-size", "lots").dataMemory());
        assertEquals(ExitCodes.USAGE, e.exitCode());
        assertEquals(1, e.getMessage().lines().count());
        assertEquals(ExitCodes.USAGE, assertThrows(CliException.class,
                () -> parse("--buffer-size", "1M").dataMemory()).exitCode(), "below the volume's 16M minimum");
    }

    @Test
    void anXmxOfTheUsersReplacesTheLimitsOtherOptionsAddToThem() {
        List<String> memory = List.of("-Xmx256m", "-XX:MaxDirectMemorySize=1024m");
        assertEquals(List.of("-Xmx4g"), RuntimeLauncher.jvmOptions(" -Xmx4g ", memory));
        assertEquals(List.of("-Xmx256m", "-XX:MaxDirectMemorySize=1024m", "-XX:+UseSerialGC"),
                RuntimeLauncher.jvmOptions("-XX:+UseSerialGC", memory));
        assertEquals(memory, RuntimeLauncher.jvmOptions(null, memory));
    }
}
