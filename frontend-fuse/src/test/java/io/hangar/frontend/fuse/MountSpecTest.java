package io.hangar.frontend.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MountSpecTest {
    private static Errno refused(Map<String, String> options) {
        return assertThrows(FsException.class, () -> MountSpec.parse(options)).errno();
    }

    @Test
    void defaultsAndMountOptions() throws Exception {
        MountSpec s = MountSpec.parse(Map.of("mountpoint", "/mnt/models/"));
        assertEquals(Path.of("/mnt/models"), s.mountpoint());
        assertFalse(s.readOnly());
        assertEquals("/", s.subdir());
        assertEquals(1.0, s.attrTimeout());
        assertEquals(1.0, s.entryTimeout());
        assertEquals(List.of("fsname=hangar:models", "subtype=hangar", "default_permissions", "allow_other"),
                s.mountOptions("models", true));
        assertFalse(s.mountOptions("models", false).contains("allow_other"), "allow_other needs root");
    }

    @Test
    void readOnlySubdirTimeoutsAndExtraOptions() throws Exception {
        MountSpec s = MountSpec.parse(Map.of("mountpoint", "/m", "readOnly", "true", "subdir", "/team/model",
                "attrTimeout", "0", "entryTimeout", "2.5", "options", "nonempty,max_read=1048576"));
        assertTrue(s.readOnly());
        assertEquals("/team/model", s.subdir());
        assertEquals(0.0, s.attrTimeout());
        assertEquals(2.5, s.entryTimeout());
        assertEquals(List.of("nonempty", "max_read=1048576"), s.extraOptions());
        List<String> o = s.mountOptions("v", false);
        assertTrue(o.containsAll(List.of("ro", "max_read=1048576")), o.toString());
        // libfuse 3 has no nonempty option (it refuses it); the emptiness check is the mount's own.
        assertFalse(o.contains("nonempty"), o.toString());
        assertFalse(o.stream().anyMatch(x -> x.contains("timeout")), "timeouts go with every reply, not the mount");
    }

    @Test
    void badOptionsAreEinval() {
        assertEquals(Errno.EINVAL, refused(Map.of()));
        assertEquals(Errno.EINVAL, refused(Map.of("mountpoint", "/m", "subdir", "team")));
        assertEquals(Errno.EINVAL, refused(Map.of("mountpoint", "/m", "subdir", "/team/../etc")));
        assertEquals(Errno.EINVAL, refused(Map.of("mountpoint", "/m", "readOnly", "yes")));
        assertEquals(Errno.EINVAL, refused(Map.of("mountpoint", "/m", "attrTimeout", "-1")));
        assertEquals(Errno.EINVAL, refused(Map.of("mountpoint", "/m", "entryTimeout", "soon")));
        assertEquals(Errno.EINVAL, refused(Map.of("mountpoint", "/m", "options", "allow_other,rw -d")));
    }
}
