package io.hangar.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a metadata engine sees below the calls the volume times ({@code hangar_meta_op_duration_seconds}):
 * transactions it retried, conflicts with other clients, and failures of its database by kind. Labelled
 * {@code engine}; an engine opened outside a framework counts into a registry nobody reads.
 */
public final class EngineMeters {
    private final MeterRegistry registry;
    private final String engine;
    private final Counter retries;
    private final Counter conflicts;
    private final Map<String, Counter> errors = new ConcurrentHashMap<>();

    public EngineMeters(MeterRegistry registry, String engine) {
        this.registry = registry != null ? registry : new CompositeMeterRegistry();
        this.engine = engine;
        this.retries = Counter.builder("hangar_meta_retries").tag("engine", engine)
                .description("metadata transactions or scripts run again (busy database, script cache miss)")
                .register(this.registry);
        this.conflicts = Counter.builder("hangar_meta_conflicts").tag("engine", engine)
                .description("transactions that found the database locked or changed by another client")
                .register(this.registry);
    }

    public void retried() {
        retries.increment();
    }

    public void conflict() {
        conflicts.increment();
    }

    /** A failure of the database itself (not an answer like ENOENT): unreachable, busy, full, ... */
    public void error(String kind) {
        errors.computeIfAbsent(kind, k -> Counter.builder("hangar_meta_backend_errors").tag("engine", engine)
                .tag("kind", k).description("failures of the metadata database, by kind").register(registry))
                .increment();
    }
}
