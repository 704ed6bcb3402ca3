package io.hangar.frontend.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.hangar.frontend.fuse.lowlevel.Fuse3;
import io.hangar.spi.frontend.Endpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every mount lifecycle test of {@link FuseMountTest} again on libfuse 3's low-level frontend, and what
 * only it gets right: hard links are one kernel inode, so their attributes are right through every name
 * with attribute caching on.
 */
class LowLevelMountTest extends FuseMountTest {
    @BeforeAll
    static void libfuse3() {
        if (Fuse3.find().isEmpty()) {
            fail("FUSE prerequisite missing: libfuse3.so.3 is neither in the loader's cache (ldconfig -p) nor in a "
                    + "library directory (apt-get install -y fuse3 libfuse3-3)");
        }
    }

    @Override
    protected Map<String, String> frontendOptions() {
        return Map.of("frontend", "lowlevel", MountSpec.ATTR_TIMEOUT, "30", MountSpec.ENTRY_TIMEOUT, "30");
    }

    private static long nlink(Path p) throws Exception {
        return ((Number) Files.getAttribute(p, "unix:nlink")).longValue();
    }

    @Test
    void hardLinksShowOneLinkCountAndCtimeThroughEveryName() throws Exception {
        Path mp = dir("mnt");
        Endpoint e = mount(mp);
        Files.createDirectories(mp.resolve("x"));
        Files.createDirectories(mp.resolve("y"));
        Path f = Files.writeString(mp.resolve("x/f"), "data");
        Path g = Files.createLink(mp.resolve("y/g"), f);
        assertEquals(2, nlink(g));
        FileTime before = (FileTime) Files.getAttribute(g, "unix:ctime");
        Thread.sleep(20);
        Files.createLink(mp.resolve("y/h"), f);
        // Attributes are cached for 30 s: only one kernel inode for all names makes these right.
        for (Path p : new Path[] {f, g, mp.resolve("y/h")}) {
            assertEquals(3, nlink(p), p.toString());
            assertTrue(((FileTime) Files.getAttribute(p, "unix:ctime")).compareTo(before) > 0, p + " ctime");
        }
        Files.delete(mp.resolve("y/h"));
        assertEquals(2, nlink(f));
        assertEquals(2, nlink(g));
        Files.writeString(mp.resolve("x/k"), "other");
        Files.move(mp.resolve("x/k"), g, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertEquals(1, nlink(f), "a rename over the other name");
        assertEquals("data", Files.readString(f));
        e.close();
    }
}
