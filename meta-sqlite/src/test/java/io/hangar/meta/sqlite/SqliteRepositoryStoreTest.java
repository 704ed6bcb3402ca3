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
}
