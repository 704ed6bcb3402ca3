package io.hangar.meta.redis;

import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.MetadataEngineProvider;
import io.hangar.metrics.EngineMeters;
import io.hangar.metrics.MeteredComponent;
import org.osgi.service.component.annotations.Deactivate;
import java.net.URI;
import java.util.Set;
import org.osgi.service.component.annotations.Component;

/** Opens Redis metadata engines: plain, TLS, Sentinel and Cluster URLs (see {@link RedisUrl}). */
@Component(service = MetadataEngineProvider.class)
public final class RedisMetadataEngineProvider extends MeteredComponent implements MetadataEngineProvider {
    private static final Set<String> SCHEMES = Set.of("redis", "rediss", "redis-sentinel", "redis-cluster");
    private final EngineMeters engineMeters = new EngineMeters(meters.registry(), "redis");

    @Deactivate
    void deactivate() {
        meters.close();
    }

    public RedisMetadataEngineProvider() {
        // ServiceLoader and DS both need the public no-arg constructor.
    }

    @Override
    public Set<String> schemes() {
        return SCHEMES;
    }

    @Override
    public MetadataEngine open(URI url) throws FsException {
        return RedisMetadataEngine.open(url, engineMeters);
    }
}
