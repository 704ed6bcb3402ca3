package io.hangar.frontend.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.frontend.fuse.lowlevel.LowLevelOptions;
import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LowLevelOptionsTest {
    @Test
    void defaultsAndChoices() throws Exception {
        LowLevelOptions o = LowLevelOptions.parse(Map.of());
        assertEquals(0.0, o.negativeTimeout());
        assertFalse(o.writebackCache());
        assertEquals(64, o.maxBackground());
        assertEquals(48, o.congestionThreshold());
        assertEquals(32, o.maxThreads());
        LowLevelOptions p = LowLevelOptions.parse(Map.of("negativeTimeout", "2.5",
                "writebackCache", "true", "maxBackground", "16", "congestionThreshold", "99", "maxThreads", "8"));
        assertEquals(2.5, p.negativeTimeout());
        assertTrue(p.writebackCache());
        assertEquals(16, p.congestionThreshold(), "never above max_background");
        assertEquals(8, p.maxThreads());
    }

    @Test
    void badValuesAreEinval() {
        for (Map<String, String> bad : new Map[] {Map.of("negativeTimeout", "-1"),
                Map.of("writebackCache", "yes"), Map.of("maxBackground", "0"), Map.of("maxThreads", "many")}) {
            assertEquals(Errno.EINVAL, assertThrows(FsException.class, () -> LowLevelOptions.parse(bad)).errno(),
                    bad.toString());
        }
    }
}
