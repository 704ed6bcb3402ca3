package io.hangar.frontend.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.frontend.fuse.lowlevel.Fuse3;
import io.hangar.frontend.fuse.lowlevel.LowLevelOptions;
import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class LowLevelOptionsTest {
    @Test
    void defaultsAndChoices() throws Exception {
        LowLevelOptions o = LowLevelOptions.parse(Map.of("frontend", "lowlevel"));
        assertTrue(o.lowLevel());
        assertEquals(0.0, o.negativeTimeout());
        assertFalse(o.writebackCache());
        assertEquals(64, o.maxBackground());
        assertEquals(48, o.congestionThreshold());
        assertEquals(32, o.maxThreads());
        assertFalse(LowLevelOptions.parse(Map.of("frontend", "highlevel")).lowLevel());
        LowLevelOptions p = LowLevelOptions.parse(Map.of("frontend", "lowlevel", "negativeTimeout", "2.5",
                "writebackCache", "true", "maxBackground", "16", "congestionThreshold", "99", "maxThreads", "8"));
        assertEquals(2.5, p.negativeTimeout());
        assertTrue(p.writebackCache());
        assertEquals(16, p.congestionThreshold(), "never above max_background");
        assertEquals(8, p.maxThreads());
    }

    @Test
    void badValuesAreEinval() {
        for (Map<String, String> bad : new Map[] {Map.of("frontend", "fuse4"), Map.of("negativeTimeout", "-1"),
                Map.of("writebackCache", "yes"), Map.of("maxBackground", "0"), Map.of("maxThreads", "many")}) {
            assertEquals(Errno.EINVAL, assertThrows(FsException.class, () -> LowLevelOptions.parse(bad)).errno(),
                    bad.toString());
        }
    }

    @Test
    void libfuse3IsFoundInAnyArchitecturesListing() {
        String listing = "1234 libs found in cache `/etc/ld.so.cache'\n"
                + "\tlibfuse3.so.3 (libc6,AArch64) => /lib/aarch64-linux-gnu/libfuse3.so.3\n"
                + "\tlibfuse.so.2 (libc6,AArch64) => /lib/aarch64-linux-gnu/libfuse.so.2\n";
        assertEquals(Optional.of(Path.of("/lib/aarch64-linux-gnu/libfuse3.so.3")), Fuse3.fromListing(listing));
        assertEquals(Optional.empty(), Fuse3.fromListing("\tlibfuse.so.2 (libc6,x86-64) => /lib/libfuse.so.2\n"));
    }
}
