package io.hangar.frontend.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The prerequisite check finds libfuse on any architecture, and says so when it is not there. */
class LibFuseTest {
    @TempDir
    Path tmp;

    @Test
    void readsTheWholeListingOfAnyArchitecture() {
        StringBuilder listing = new StringBuilder("2000 libs found in cache `/etc/ld.so.cache'\n");
        for (int i = 0; i < 2000; i++) {
            listing.append("\tliba").append(i).append(".so.1 (libc6,AArch64) => /lib/aarch64-linux-gnu/liba")
                    .append(i).append(".so.1\n");
        }
        listing.append("\tlibfuse.so.2 (libc6,AArch64) => /lib/aarch64-linux-gnu/libfuse.so.2\n");
        assertEquals(Optional.of(Path.of("/lib/aarch64-linux-gnu/libfuse.so.2")), LibFuse.fromListing(listing.toString()));
        assertEquals(Optional.empty(), LibFuse.fromListing("\tlibfuse3.so.3 (libc6,x86-64) => /lib/x86_64-linux-gnu/libfuse3.so.3\n"));
    }

    @Test
    void fallsBackToTheMultiarchDirectories() throws Exception {
        Path lib = Files.createDirectories(tmp.resolve("usr/lib/riscv64-linux-gnu")).resolve("libfuse.so.2");
        Files.writeString(lib, "not really");
        assertEquals(Optional.of(lib), LibFuse.find(List.of(tmp.resolve("no-ldconfig").toString()), tmp));
        Files.delete(lib);
        assertEquals(Optional.empty(), LibFuse.find(List.of(tmp.resolve("no-ldconfig").toString()), tmp),
                "nothing found is empty, so the mount tests fail saying libfuse is missing");
    }

    @Test
    void findsTheInstalledOne() {
        // scripts/install-deps.sh installs libfuse2: the mount tests need it, and so does this.
        Optional<Path> lib = LibFuse.find();
        assertTrue(lib.isPresent(), "libfuse.so.2 not found (apt-get install -y libfuse2)");
        assertEquals("libfuse.so.2", lib.get().getFileName().toString());
    }
}
