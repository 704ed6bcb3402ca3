package io.hangar.sync.plugin.runner;

import io.hangar.spi.sync.SyncStrategy;
import io.hangar.sync.VolumeSync;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * The whiteboard of sync strategies: every {@link SyncStrategy} service with the
 * {@link SyncStrategy#SOURCE} and {@link SyncStrategy#DESTINATION} properties gets a worker thread of its
 * own, from the moment it is registered until it goes (a stopped bundle, a deleted or changed configuration),
 * so strategies of other bundles run as the built-in ones do.
 */
@Component(immediate = true)
public class SyncRunner {
    private static final Logger LOG = Logger.getLogger(SyncRunner.class.getName());

    private final Map<SyncStrategy, Map<String, Object>> strategies = new ConcurrentHashMap<>();
    private final Map<SyncStrategy, SyncWorker> workers = new ConcurrentHashMap<>();
    private volatile VolumeSync sync;

    @Reference
    void setVolumeSync(VolumeSync s) {
        this.sync = s;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addStrategy(SyncStrategy s, Map<String, Object> properties) {
        strategies.put(s, properties);
        if (sync != null) {
            start(s, properties);
        }
    }

    void removeStrategy(SyncStrategy s) {
        strategies.remove(s);
        SyncWorker w = workers.remove(s);
        if (w != null) {
            w.stop();
        }
    }

    @Activate
    void activate() {
        strategies.forEach((s, p) -> {
            if (!workers.containsKey(s)) {
                start(s, p);
            }
        });
    }

    @Deactivate
    void deactivate() {
        workers.values().forEach(SyncWorker::stop);
        workers.clear();
    }

    private void start(SyncStrategy s, Map<String, Object> p) {
        SyncWorker.Settings settings;
        try {
            settings = SyncWorker.Settings.of(p);
        } catch (IllegalArgumentException e) {
            LOG.warning("sync strategy " + s.describe() + " not run: " + e.getMessage());
            return;
        }
        workers.computeIfAbsent(s, k -> {
            SyncWorker w = new SyncWorker(sync, k, settings);
            w.start();
            return w;
        });
    }
}
