package io.hangar.core.vfs;

import io.hangar.metrics.MeterSet;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

/**
 * The meters of one volume (docs/metrics.md lists them): created once when the volume opens, held in fields
 * the data path uses without a lookup, removed from the registry when it closes. Without a registry (the CLI
 * on the class path) they count into a registry nobody reads.
 */
public final class VfsMetrics {
    private final MeterSet set;
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
        set = new MeterSet(registry, Tags.of("volume", volume));
        bufferWaits = set.counter("hangar_vfs_buffer_waits", null, "writes that waited for write-buffer memory");
        bufferWaitTime = set.summaryTimer("hangar_vfs_buffer_wait", "time writes spent waiting for write-buffer memory");
        readAheadHits = set.counter("hangar_vfs_readahead_hits", null, "blocks a read found in its stream's read-ahead");
        readAheadFetchedBytes = set.counter("hangar_vfs_readahead_fetched", "bytes", "bytes read-ahead fetched");
        readAheadWastedBytes = set.counter("hangar_vfs_readahead_wasted", "bytes",
                "bytes read-ahead fetched that the stream dropped unread");
        compactions = set.counter("hangar_vfs_compactions", null, "chunks compacted (slices merged into new blocks)");
        compactionFailures = set.counter("hangar_vfs_compaction_failures", null,
                "compactions abandoned (the chunk changed meanwhile, or the store failed); retried later");
        slicesCommitted = set.counter("hangar_vfs_slices_committed", null, "slices committed to the metadata engine");
        sliceBytes = set.summary("hangar_vfs_slice_size", "bytes", "bytes of each committed slice");
        blocksReaped = set.counter("hangar_vfs_blocks_reaped", null,
                "blocks deleted from the chunk store after their slices were freed");
        storeRetries = set.counter("hangar_object_request_retries", null,
                "chunk store requests retried after a transient error");
        store = new StoreMeters();
    }

    <T> void gauge(String name, String unit, String help, T obj, ToDoubleFunction<T> f) {
        set.gauge(name, unit, help, obj, f);
    }

    <T> void functionCounter(String name, String unit, String help, T obj, ToDoubleFunction<T> f) {
        set.functionCounter(name, unit, help, obj, f);
    }

    /** The latency timer of one metadata operation (created on its first call: one per engine method). */
    Timer metaOp(String method) {
        Timer t = metaOps.get(method);
        return t != null ? t : metaOps.computeIfAbsent(method, m -> set.timer("hangar_meta_op_duration",
                "metadata engine calls by method", "method", m));
    }

    Counter metaError(String method, String errno) {
        return metaErrors.computeIfAbsent(method + '\0' + errno, k -> set.counter("hangar_meta_op_errors", null,
                "metadata engine calls that failed, by method and errno (ENOENT and the like are answers, counted "
                        + "too)", "method", method, "errno", errno));
    }

    /** Removes this volume's meters from the registry (and so from every registry it was published to). */
    void close() {
        set.close();
        metaOps.clear();
        metaErrors.clear();
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
            return set.timer("hangar_object_request_duration", "chunk store requests by method (errors included)",
                    "method", method);
        }

        private Counter storeBytes(String method) {
            return set.counter("hangar_object_request_data", "bytes",
                    "bytes sent to (PUT) and received from (GET) the chunk store", "method", method);
        }

        Counter error(String method, String kind) {
            return errors.computeIfAbsent(method + '\0' + kind, k -> set.counter("hangar_object_request_errors", null,
                    "chunk store requests that failed, by method and kind", "method", method, "kind", kind));
        }
    }
}
