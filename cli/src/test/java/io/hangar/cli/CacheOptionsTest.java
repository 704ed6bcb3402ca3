package io.hangar.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The disk cache options of mount and gateway (checked as the volume checks them, directories made absolute,
 * written into the volume configuration) and warmup's refusals, each a one-line error with its exit code.
 */
class CacheOptionsTest {
    @TempDir
    Path tmp;

    private static VolumeCacheOptions options(String dir, String size, String ratio, boolean writes) {
        VolumeCacheOptions o = new VolumeCacheOptions();
        o.cacheDir = dir;
        o.diskCacheSize = size;
        o.freeSpaceRatio = ratio;
        o.cacheWrites = writes;
        return o;
    }

    @Test
    void goodOptionsGoIntoTheVolumeConfigurationWithAbsoluteDirectories() {
        VolumeCacheOptions o = options("rel/a:/abs/b", "500G", "0.2", true);
        o.check();
        Map<String, String> cfg = new LinkedHashMap<>();
        o.addTo(cfg);
        assertEquals(Path.of("rel/a").toAbsolutePath().normalize() + ":/abs/b", cfg.get("cacheDir"));
        assertEquals("500G", cfg.get("diskCacheSize"));
        assertEquals("0.2", cfg.get("freeSpaceRatio"));
        assertEquals("true", cfg.get("cacheWrites"));
    }

    @Test
    void noOptionsWriteNothing() {
        VolumeCacheOptions o = options(null, null, null, false);
        o.check();
        Map<String, String> cfg = new LinkedHashMap<>();
        o.addTo(cfg);
        assertEquals(Map.of(), cfg);
        VolumeCacheOptions memory = options("memory", null, null, false);
        memory.check();
        memory.addTo(cfg);
        assertEquals(Map.of("cacheDir", "memory"), cfg, "memory: the in-memory cache alone, as the volume reads it");
    }

    @Test
    void badValuesFailInOneLineWithUsage() {
        for (VolumeCacheOptions bad : new VolumeCacheOptions[] {options("/c", "lots", null, false),
                options("/c", null, "1.5", false), options("/c", null, "-0.1", false),
                options("/c", null, "a tenth", false)}) {
            CliException e = org.junit.jupiter.api.Assertions.assertThrows(CliException.class, bad::check);
            assertEquals(ExitCodes.USAGE, e.exitCode());
            assertTrue(!e.getMessage().isBlank() && !e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void warmupRefusesPathsOutsideAHangarMount() throws Exception {
        Files.writeString(tmp.resolve("f"), "not in a mount");
        CliRun r = CliRun.of("warmup", tmp.toString());
        assertEquals(ExitCodes.REFUSED, r.exit(), r.stderr());
        assertEquals(1, r.errLines().size(), r.stderr());
        assertTrue(r.stderr().contains("not in a Hangar mount"), r.stderr());
        CliRun threads = CliRun.of("warmup", "--threads", "0", tmp.toString());
        assertEquals(ExitCodes.USAGE, threads.exit(), threads.stderr());
        CliRun both = CliRun.of("warmup", "--check", "--evict", tmp.toString());
        assertEquals(ExitCodes.USAGE, both.exit(), both.stderr());
        // A model version is resolved through the repository API first: no server, one line and exit 5.
        CliRun noServer = CliRun.of(Map.of("HANGAR_SERVER", "http://127.0.0.1:1", "HANGAR_TOKEN", "hgr_x"),
                "warmup", "vision/llama:prod");
        assertEquals(ExitCodes.UNREACHABLE, noServer.exit(), noServer.stderr());
        assertEquals(1, noServer.errLines().size(), noServer.stderr());
    }
}
