package io.hangar.meta.sqlite;

import io.hangar.spi.meta.MetadataEngine;
import io.hangar.tck.crash.MetaCrashTck;
import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.io.TempDir;

/** The crash kit on SQLite: the killed client is the process holding the database file open. */
class SqliteCrashTest extends MetaCrashTck {
    @TempDir
    Path dir;
    private final AtomicInteger rounds = new AtomicInteger();

    @Override
    protected String freshBackendUrl() {
        return "sqlite://" + dir.resolve("round-" + rounds.incrementAndGet() + ".db");
    }

    @Override
    protected MetadataEngine open(String url) throws Exception {
        return SqliteMetadataEngine.open(Path.of(new URI(url).getPath()));
    }
}
