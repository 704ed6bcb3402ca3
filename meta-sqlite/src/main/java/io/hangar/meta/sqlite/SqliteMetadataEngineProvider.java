package io.hangar.meta.sqlite;

import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.MetadataEngineProvider;
import java.net.URI;
import java.util.Set;
import org.osgi.service.component.annotations.Component;

/** Opens SQLite metadata engines for {@code sqlite:} URLs (see {@link SqliteUrl}). */
@Component(service = MetadataEngineProvider.class)
public final class SqliteMetadataEngineProvider implements MetadataEngineProvider {

    public SqliteMetadataEngineProvider() {
        // ServiceLoader and DS both need the public no-arg constructor.
    }

    @Override
    public Set<String> schemes() {
        return Set.of(SqliteUrl.SCHEME);
    }

    @Override
    public MetadataEngine open(URI url) throws FsException {
        return SqliteMetadataEngine.open(SqliteUrl.path(url));
    }
}
