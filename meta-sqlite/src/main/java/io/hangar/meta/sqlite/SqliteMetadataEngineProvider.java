package io.hangar.meta.sqlite;

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

/** Opens SQLite metadata engines for {@code sqlite:} URLs (see {@link SqliteUrl}). */
@Component(service = MetadataEngineProvider.class)
public final class SqliteMetadataEngineProvider implements MetadataEngineProvider {
    // Counted once per provider: every engine it opens adds to the same series (label engine).
    private final MeterGroup meters = new MeterGroup();
    private final EngineMeters engineMeters = new EngineMeters(meters.registry(), SqliteUrl.SCHEME);

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
