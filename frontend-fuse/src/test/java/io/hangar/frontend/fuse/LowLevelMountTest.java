package io.hangar.frontend.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.spi.frontend.Endpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every mount lifecycle test of {@link FuseMountTest} again with 30 s attribute and entry caching, and what
 * the low-level API's one kernel inode per volume inode gets right: the attributes of hard links are right
 * through every name with attribute caching on.
 */
class LowLevelMountTest extends FuseMountTest {
    @Override
    protected Map<String, String> frontendOptions() {
        return Map.of(MountSpec.ATTR_TIMEOUT, "30", MountSpec.ENTRY_TIMEOUT, "30");
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
