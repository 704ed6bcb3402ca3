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
    void defaultsAndArguments() throws Exception {
        MountSpec s = MountSpec.parse(Map.of("mountpoint", "/mnt/models/"));
        assertEquals(Path.of("/mnt/models"), s.mountpoint());
        assertFalse(s.readOnly());
        assertEquals("/", s.subdir());
        assertEquals(1.0, s.attrTimeout());
        List<String> args = s.fuseArguments("models", true);
        assertEquals(List.of("hangar", "-f", "/mnt/models", "-o"), args.subList(0, 4));
        List<String> o = List.of(args.get(4).split(","));
        assertTrue(o.containsAll(List.of("fsname=hangar:models", "default_permissions", "allow_other", "use_ino",
                "big_writes", "max_write=131072", "attr_timeout=1.0", "entry_timeout=1.0")), o.toString());
        assertFalse(o.contains("ro"));
        assertFalse(o.contains("hard_remove"), "libfuse's hiding is what keeps fstat of unlinked files working");
        assertFalse(s.fuseArguments("models", false).get(4).contains("allow_other"), "allow_other needs root");
    }

    @Test
    void readOnlySubdirTimeoutsAndExtraOptions() throws Exception {
        MountSpec s = MountSpec.parse(Map.of("mountpoint", "/m", "readOnly", "true", "subdir", "/team/model",
                "attrTimeout", "0", "entryTimeout", "2.5", "options", "nonempty,max_readahead=1048576"));
        assertTrue(s.readOnly());
        assertEquals("/team/model", s.subdir());
        List<String> o = List.of(s.fuseArguments("v", false).get(4).split(","));
        assertTrue(o.containsAll(List.of("ro", "attr_timeout=0.0", "entry_timeout=2.5", "nonempty",
                "max_readahead=1048576")), o.toString());
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
