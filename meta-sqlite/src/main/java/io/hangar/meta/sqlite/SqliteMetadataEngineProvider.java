package io.hangar.meta.sqlite;

import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.MetadataEngineProvider;
import io.hangar.metrics.EngineMeters;
import io.hangar.metrics.MeteredComponent;
import org.osgi.service.component.annotations.Deactivate;
import java.net.URI;
import java.util.Set;
import org.osgi.service.component.annotations.Component;

/** Opens SQLite metadata engines for {@code sqlite:} URLs (see {@link SqliteUrl}). */
@Component(service = MetadataEngineProvider.class)
public final class SqliteMetadataEngineProvider extends MeteredComponent implements MetadataEngineProvider {
    private final EngineMeters engineMeters = new EngineMeters(meters.registry(), SqliteUrl.SCHEME);

    @Deactivate
    void deactivate() {
        meters.close();
    }

    public SqliteMetadataEngineProvider() {
        // ServiceLoader and DS both need the public no-arg constructor.
    }

    @Override
    public Set<String> schemes() {
        return Set.of(SqliteUrl.SCHEME);
    }

    @Override
    public MetadataEngine open(URI url) throws FsException {
        return SqliteMetadataEngine.open(SqliteUrl.path(url), Database.BUSY_TIMEOUT_MS, engineMeters);
    }
}
