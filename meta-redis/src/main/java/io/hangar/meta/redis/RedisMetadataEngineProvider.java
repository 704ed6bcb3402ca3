package io.hangar.meta.redis;

import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.MetadataEngineProvider;
import io.hangar.metrics.EngineMeters;
import io.hangar.metrics.MeterGroup;
import io.micrometer.core.instrument.MeterRegistry;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import java.net.URI;
import java.util.Set;
import org.osgi.service.component.annotations.Component;

/** Opens Redis metadata engines: plain, TLS, Sentinel and Cluster URLs (see {@link RedisUrl}). */
@Component(service = MetadataEngineProvider.class)
public final class RedisMetadataEngineProvider implements MetadataEngineProvider {
    private static final Set<String> SCHEMES = Set.of("redis", "rediss", "redis-sentinel", "redis-cluster");
    // Counted once per provider: every engine it opens adds to the same series (label engine).
    private final MeterGroup meters = new MeterGroup();
    private final EngineMeters engineMeters = new EngineMeters(meters.registry(), "redis");

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addMeterRegistry(MeterRegistry r) {
        meters.publishTo(r);
    }

    void removeMeterRegistry(MeterRegistry r) {
        meters.withdrawFrom(r);
    }

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
