package io.hangar.core.vfs;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

/**
 * The meters of one volume (docs/metrics.md lists them): created once when the volume opens, held in fields
 * the data path uses without a lookup, removed from the registry when it closes. Without a registry (the CLI
 * on the class path) they count into a registry nobody reads.
 */
public final class VfsMetrics {
    /** Latency buckets of every histogram: 100 µs doubling to about 13 s (JuiceFS uses a similar range). */
    public static final Duration[] LATENCY_BUCKETS = latencyBuckets();

    private final MeterRegistry registry;
    private final Tags tags;
    private final List<Meter> meters = new ArrayList<>();
    private final Map<String, Timer> metaOps = new ConcurrentHashMap<>();
    private final Map<String, Counter> metaErrors = new ConcurrentHashMap<>();

    final Counter bufferWaits;
    final Timer bufferWaitTime;
    final Counter readAheadHits;
    final Counter readAheadFetchedBytes;
    final Counter readAheadWastedBytes;
    final Counter compactions;
    final Counter compactionFailures;
    final Counter slicesCommitted;
    final DistributionSummary sliceBytes;
    final Counter blocksReaped;
    final Counter storeRetries;
    final StoreMeters store;

    public VfsMetrics(MeterRegistry registry, String volume) {
        this.registry = registry != null ? registry : new CompositeMeterRegistry();
        this.tags = Tags.of("volume", volume);
        bufferWaits = counter("hangar_vfs_buffer_waits", "writes that waited for write-buffer memory");
        bufferWaitTime = keep(Timer.builder("hangar_vfs_buffer_wait").tags(tags)
                .description("time writes spent waiting for write-buffer memory").register(this.registry));
        readAheadHits = counter("hangar_vfs_readahead_hits", "blocks a read found in its stream's read-ahead");
        readAheadFetchedBytes = counter("hangar_vfs_readahead_fetched_bytes", "bytes read-ahead fetched");
        readAheadWastedBytes = counter("hangar_vfs_readahead_wasted_bytes",
                "bytes read-ahead fetched that the stream dropped unread");
        compactions = counter("hangar_vfs_compactions", "chunks compacted (slices merged into new blocks)");
        compactionFailures = counter("hangar_vfs_compaction_failures",
                "compactions abandoned (the chunk changed meanwhile, or the store failed); retried later");
        slicesCommitted = counter("hangar_vfs_slices_committed", "slices committed to the metadata engine");
        sliceBytes = keep(DistributionSummary.builder("hangar_vfs_slice_size_bytes").baseUnit("bytes").tags(tags)
                .description("bytes of each committed slice").register(this.registry));
        blocksReaped = counter("hangar_vfs_blocks_reaped",
                "blocks deleted from the chunk store after their slices were freed");
        storeRetries = counter("hangar_object_request_retries", "chunk store requests retried after a transient error");
        store = new StoreMeters();
    }

    private static Duration[] latencyBuckets() {
        Duration[] d = new Duration[18];
        for (int i = 0; i < d.length; i++) {
            d[i] = Duration.ofNanos(100_000L << i);
        }
        return d;
    }

    private <M extends Meter> M keep(M m) {
        synchronized (meters) {
            meters.add(m);
        }
        return m;
    }

    private Counter counter(String name, String help) {
        return keep(Counter.builder(name).tags(tags).description(help).register(registry));
    }

    /** A gauge on {@code obj}, removed with the volume (held strongly: the volume owns it). */
    <T> void gauge(String name, String unit, String help, T obj, ToDoubleFunction<T> f) {
        keep(Gauge.builder(name, obj, f).tags(tags).baseUnit(unit).description(help).strongReference(true)
                .register(registry));
    }

    /** A counter read from {@code obj} at each scrape (for counts kept elsewhere, like the cache's). */
    <T> void functionCounter(String name, String unit, String help, T obj, ToDoubleFunction<T> f) {
        keep(FunctionCounter.builder(name, obj, f).tags(tags).baseUnit(unit).description(help).register(registry));
    }

    Timer timer(String name, String help, Tags extra) {
        return keep(Timer.builder(name).tags(tags).tags(extra).description(help)
                .serviceLevelObjectives(LATENCY_BUCKETS).register(registry));
    }

    /** The latency timer of one metadata operation (created on its first call: one per engine method). */
    Timer metaOp(String method) {
        return metaOps.computeIfAbsent(method, m -> timer("hangar_meta_op_duration",
                "metadata engine calls by method", Tags.of("method", m)));
    }

    Counter metaError(String method, String errno) {
        return metaErrors.computeIfAbsent(method + '\0' + errno, k -> keep(Counter.builder("hangar_meta_op_errors")
                .tags(tags).tags("method", method, "errno", errno)
                .description("metadata engine calls that failed, by method and errno (ENOENT and the like "
                        + "are answers, counted too)").register(registry)));
    }

    /** Removes this volume's meters from the registry (and so from every registry it was published to). */
    void close() {
        synchronized (meters) {
            meters.forEach(registry::remove);
            meters.clear();
        }
    }

    /** The chunk store's meters, by request kind. */
    final class StoreMeters {
        final Timer get = storeTimer("GET");
        final Timer put = storeTimer("PUT");
        final Timer head = storeTimer("HEAD");
        final Timer delete = storeTimer("DELETE");
        final Timer list = storeTimer("LIST");
        final Counter getBytes = storeBytes("GET");
        final Counter putBytes = storeBytes("PUT");
        private final Map<String, Counter> errors = new ConcurrentHashMap<>();

        private Timer storeTimer(String method) {
            return timer("hangar_object_request_duration", "chunk store requests by method (errors included)",
                    Tags.of("method", method));
        }

        private Counter storeBytes(String method) {
            return keep(Counter.builder("hangar_object_request_data_bytes").baseUnit("bytes").tags(tags)
                    .tags("method", method).description("bytes sent to (PUT) and received from (GET) the chunk store")
                    .register(registry));
        }

        Counter error(String method, String kind) {
            return errors.computeIfAbsent(method + '\0' + kind, k -> keep(Counter.builder("hangar_object_request_errors")
                    .tags(tags).tags("method", method, "kind", kind)
                    .description("chunk store requests that failed, by method and kind").register(registry)));
        }
    }
}
