package io.hangar.frontend.fuse;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Where libfuse.so.2 is on this machine ({@link SharedLibraries}), for the tests' prerequisite check. */
final class LibFuse {
    static final String NAME = "libfuse.so.2";
    static final String DIRS = SharedLibraries.DIRS;

    private LibFuse() {
    }

    static Optional<Path> find() {
        return SharedLibraries.find(NAME);
    }

    static Optional<Path> find(List<String> ldconfigs, Path root) {
        return SharedLibraries.find(NAME, ldconfigs, root);
    }

    static Optional<Path> fromListing(String listing) {
        return SharedLibraries.fromListing(NAME, listing);
    }
}
