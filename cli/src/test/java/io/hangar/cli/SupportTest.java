package io.hangar.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sizes, /proc/mounts escapes, etc/ files and path normalization. */
class SupportTest {
    @TempDir
    Path dir;

    @Test
    void sizes() {
        assertEquals(4L << 20, Sizes.parse("4M"));
        assertEquals(64L << 10, Sizes.parse("64KiB"));
        assertEquals(1L << 30, Sizes.parse("1g"));
        assertEquals(123, Sizes.parse("123"));
        assertEquals(ExitCodes.USAGE, assertThrows(CliException.class, () -> Sizes.parse("lots")).exitCode());
        assertEquals("4 MiB", Sizes.format(4L << 20));
        assertEquals("1.5 KiB", Sizes.format(1536));
        assertEquals("0 B", Sizes.format(0));
    }

    @Test
    void procMountsEscapes() {
        assertEquals("/mnt/my data\\x", Fuse.unescape("/mnt/my\\040data\\134x"));
        assertEquals("/plain", Fuse.unescape("/plain"));
    }

    @Test
    void configFilesRoundTripAndFactoryListing() throws Exception {
        ConfigFiles etc = new ConfigFiles(dir.resolve("etc"));
        Map<String, String> props = new LinkedHashMap<>();
        props.put("name", "v");
        props.put("meta", "sqlite:///a b/c\\d.db");
        etc.write(ConfigFiles.factoryFile(ConfigFiles.VOLUME_PID, "v"), "a volume\non two lines", props, true);
        etc.write(ConfigFiles.HTTP_PID + ".cfg", "http", Map.of("org.osgi.service.http.port", "1"), false);
        assertEquals(props, etc.read("io.hangar.volume-v.cfg"));
        assertEquals(List.of("io.hangar.volume-v.cfg"), etc.factoryFiles(ConfigFiles.VOLUME_PID));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                java.nio.file.Files.getPosixFilePermissions(dir.resolve("etc/io.hangar.volume-v.cfg"))));
    }

    @Test
    void pathsAreNormalizedFromTheRoot() {
        assertEquals("/", VolumeOps.normalize(""));
        assertEquals("/a/c", VolumeOps.normalize("a//b/../c/."));
        assertEquals("/", VolumeOps.normalize("/../.."));
    }
}
