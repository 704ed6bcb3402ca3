package io.hangar.frontend.fuse;

import io.hangar.fs.FsException;
import io.hangar.vfs.standalone.OpenVolume;
import io.hangar.vfs.standalone.Volumes;
import java.nio.file.Path;
import java.util.Map;

/** Real volumes for tests: SQLite metadata and a chunk directory under a test's temporary folder. */
final class TestVolumes {
    private TestVolumes() {
    }

    static String metaUrl(Path dir) {
        return "sqlite://" + dir.resolve("meta.db");
    }

    static OpenVolume create(Path dir, String name) throws FsException {
        Volumes.format(metaUrl(dir), name, "file://" + dir.resolve("chunks"), Map.of());
        return Volumes.open(metaUrl(dir), Map.of("buffer-size", String.valueOf(64 << 20)));
    }
}
