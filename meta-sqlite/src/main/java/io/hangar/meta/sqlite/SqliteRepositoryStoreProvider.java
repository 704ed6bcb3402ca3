package io.hangar.meta.sqlite;

import io.hangar.fs.FsException;
import io.hangar.spi.repo.RepositoryStore;
import io.hangar.spi.repo.RepositoryStoreProvider;
import java.net.URI;
import java.util.Set;
import org.osgi.service.component.annotations.Component;

/** Opens the repository store inside the SQLite file of a {@code sqlite:} metadata URL. */
@Component(service = RepositoryStoreProvider.class)
public final class SqliteRepositoryStoreProvider implements RepositoryStoreProvider {
    public SqliteRepositoryStoreProvider() {
        // ServiceLoader and DS both need the public no-arg constructor.
    }

    @Override
    public Set<String> schemes() {
        return Set.of(SqliteUrl.SCHEME);
    }

    @Override
    public RepositoryStore open(URI url) throws FsException {
        return SqliteRepositoryStore.open(SqliteUrl.path(url));
    }
}
