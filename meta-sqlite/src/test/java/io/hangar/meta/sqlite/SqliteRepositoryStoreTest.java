package io.hangar.meta.sqlite;

import io.hangar.spi.repo.RepositoryStore;
import io.hangar.spi.repo.RepositoryStoreProvider;
import io.hangar.tck.repo.RepositoryStoreTck;
import java.net.URI;
import java.nio.file.Path;
import java.util.ServiceLoader;
import java.util.UUID;
import org.junit.jupiter.api.io.TempDir;

/** The repository store kit on a fresh SQLite file per test, opened through the provider as a runtime does. */
class SqliteRepositoryStoreTest extends RepositoryStoreTck {
    @TempDir
    Path dir;
    private URI url;

    private static RepositoryStoreProvider provider() {
        return ServiceLoader.load(RepositoryStoreProvider.class).findFirst().orElseThrow();
    }

    @Override
    protected RepositoryStore newStore() throws Exception {
        url = URI.create("sqlite://" + dir.resolve(UUID.randomUUID() + ".db"));
        return provider().open(url);
    }

    @Override
    protected RepositoryStore reopen() throws Exception {
        return provider().open(url);
    }

    /** A volume formatted before the repository existed (schema 1) gains its tables and keeps its namespace. */
    @org.junit.jupiter.api.Test
    void aSchemaOneFileGainsTheRepositoryTables() throws Exception {
        Path file = dir.resolve("old.db");
        URI old = URI.create("sqlite://" + file);
        try (io.hangar.spi.meta.MetadataEngine e = new SqliteMetadataEngineProvider().open(old)) {
            e.format(new io.hangar.spi.meta.VolumeFormat("old", UUID.randomUUID().toString(), "file:///tmp/x",
                    4 << 20, 64 << 20, 0, 0, System.currentTimeMillis()));
            e.mknod(io.hangar.spi.meta.MetadataEngine.ROOT, "kept", io.hangar.fs.FileType.FILE, 0644, 0, 0, 0, null);
        }
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + file);
                java.sql.Statement s = c.createStatement()) {
            s.execute("DROP TABLE repo_records");
            s.execute("DROP TABLE repo_audit");
            s.execute("PRAGMA user_version = 1");
        }
        try (RepositoryStore s = provider().open(old)) {
            org.junit.jupiter.api.Assertions.assertTrue(s.commit(java.util.List.of(),
                    java.util.List.of(io.hangar.spi.repo.RepoWrite.put("team/a", new byte[] {1})), java.util.List.of()));
        }
        try (io.hangar.spi.meta.MetadataEngine e = new SqliteMetadataEngineProvider().open(old);
                RepositoryStore s = provider().open(old)) {
            org.junit.jupiter.api.Assertions.assertEquals("old", e.load().orElseThrow().name());
            e.lookup(io.hangar.spi.meta.MetadataEngine.ROOT, "kept");
            org.junit.jupiter.api.Assertions.assertEquals(1, s.get("team/a").orElseThrow().version());
        }
    }
}
