package io.hangar.frontend.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.frontend.fuse.setup.FuseSetup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** libfuse3.so.3 is found on any architecture, and nothing found is empty (the mount then says it is missing). */
class SharedLibrariesTest {
    private static final String NAME = FuseSetup.LIBRARY;

    @TempDir
    Path tmp;

    @Test
    void readsTheWholeListingOfAnyArchitecture() {
        StringBuilder listing = new StringBuilder("2000 libs found in cache `/etc/ld.so.cache'\n");
        for (int i = 0; i < 2000; i++) {
            listing.append("\tliba").append(i).append(".so.1 (libc6,AArch64) => /lib/aarch64-linux-gnu/liba")
                    .append(i).append(".so.1\n");
        }
        listing.append("\tlibfuse3.so.3 (libc6,AArch64) => /lib/aarch64-linux-gnu/libfuse3.so.3\n");
        assertEquals(Optional.of(Path.of("/lib/aarch64-linux-gnu/libfuse3.so.3")),
                SharedLibraries.fromListing(NAME, listing.toString()));
        assertEquals(Optional.empty(), SharedLibraries.fromListing(NAME,
                "\tlibfuse.so.2 (libc6,x86-64) => /lib/x86_64-linux-gnu/libfuse.so.2\n"), "libfuse 2 is not it");
    }

    @Test
    void fallsBackToTheMultiarchDirectories() throws Exception {
        Path lib = Files.createDirectories(tmp.resolve("usr/lib/riscv64-linux-gnu")).resolve(NAME);
        Files.writeString(lib, "not really");
        List<String> noLdconfig = List.of(tmp.resolve("no-ldconfig").toString());
        assertEquals(Optional.of(lib), SharedLibraries.find(NAME, noLdconfig, tmp));
        Files.delete(lib);
        assertEquals(Optional.empty(), SharedLibraries.find(NAME, noLdconfig, tmp),
                "nothing found is empty, so the mount tests fail saying libfuse3 is missing");
    }

    @Test
    void findsTheInstalledOne() {
        // scripts/install-deps.sh installs fuse3 and libfuse3-3: the mount tests need them, and so does this.
        Optional<Path> lib = SharedLibraries.find(NAME);
        assertTrue(lib.isPresent(), NAME + " not found (" + FuseSetup.INSTALL_COMMAND + ")");
        assertEquals(NAME, lib.get().getFileName().toString());
    }
}
