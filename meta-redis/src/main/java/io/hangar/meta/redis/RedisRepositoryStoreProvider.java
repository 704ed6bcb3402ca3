package io.hangar.meta.redis;

import io.hangar.fs.FsException;
import io.hangar.metrics.EngineMeters;
import io.hangar.spi.repo.RepositoryStore;
import io.hangar.spi.repo.RepositoryStoreProvider;
import java.net.URI;
import java.util.Set;
import org.osgi.service.component.annotations.Component;

/**
 * Opens the repository store in the Redis database (and under the key prefix or cluster hash tag) of a
 * volume's metadata URL: plain, TLS, Sentinel and Cluster forms (see {@link RedisUrl}).
 */
@Component(service = RepositoryStoreProvider.class)
public final class RedisRepositoryStoreProvider implements RepositoryStoreProvider {
    private static final Set<String> SCHEMES = Set.of("redis", "rediss", "redis-sentinel", "redis-cluster");

    public RedisRepositoryStoreProvider() {
        // ServiceLoader and DS both need the public no-arg constructor.
    }

    @Override
    public Set<String> schemes() {
        return SCHEMES;
    }

    @Override
    public RepositoryStore open(URI url) throws FsException {
        return RedisRepositoryStore.open(url, new EngineMeters(null, "redis"));
    }
}
