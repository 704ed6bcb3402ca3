package io.hangar.sync.plugin.periodic;

import io.hangar.spi.sync.RepoChange;
import io.hangar.spi.sync.SourceView;
import io.hangar.spi.sync.SyncRequest;
import io.hangar.spi.sync.SyncStrategy;
import java.util.List;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.Designate;

/**
 * Syncs one tree every {@code interval_seconds}, the first time at once. The configuration's properties are
 * this service's, so the runner reads the source, destination and copy settings from them; a changed
 * configuration makes a new component (the runner stops the old one's worker and starts a new one).
 */
@Component(service = SyncStrategy.class, configurationPid = PeriodicConfig.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = PeriodicConfig.class, factory = true)
public class PeriodicStrategy implements SyncStrategy {
    private String path;
    private long intervalMs;
    private boolean warm;
    private long nextMs = Long.MIN_VALUE;

    public PeriodicStrategy() {
    }

    /** For tests and other runners outside a framework. */
    public PeriodicStrategy(String path, long intervalSeconds, boolean warm) {
        configure(path, intervalSeconds, warm);
    }

    @Activate
    void activate(PeriodicConfig c) {
        configure(c.path(), c.interval_seconds(), !c.sync_warm_group().isBlank());
    }

    private void configure(String path, long intervalSeconds, boolean warm) {
        if (!SyncRequest.isNormalPath(path)) {
            throw new IllegalArgumentException("path must be absolute and normalized: " + path);
        }
        if (intervalSeconds < 1) {
            throw new IllegalArgumentException("interval_seconds must be at least 1: " + intervalSeconds);
        }
        this.path = path;
        this.intervalMs = intervalSeconds * 1000;
        this.warm = warm;
    }

    @Override
    public String describe() {
        return "periodic " + path + " every " + intervalMs / 1000 + " s";
    }

    @Override
    public synchronized List<SyncRequest> due(long nowMs, List<RepoChange> changes, SourceView source) {
        if (nowMs < nextMs) {
            return List.of();
        }
        nextMs = nowMs + intervalMs;
        return List.of(new SyncRequest(path, warm, "every " + intervalMs / 1000 + " s"));
    }
}
