package io.hangar.frontend.fuse.lowlevel;

import io.hangar.metrics.MeterSet;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The meters of one mount (docs/metrics.md): operations by kind, bytes read and written, open handles. Removed
 * from the registry when the mount ends.
 */
final class FuseMetrics {
    private final MeterSet set;
    private final Map<String, Timer> ops = new ConcurrentHashMap<>();
    final Counter readBytes;
    final Counter writtenBytes;

    FuseMetrics(MeterRegistry registry, String volume, String mountpoint) {
        set = new MeterSet(registry, Tags.of("volume", volume, "mountpoint", mountpoint));
        readBytes = set.counter("hangar_fuse_read", "bytes", "bytes replied to read requests");
        writtenBytes = set.counter("hangar_fuse_written", "bytes", "bytes of write requests accepted");
    }

    /** The timer of one kind of request (lookup, read, write, ...), created on its first use. */
    Timer op(String method) {
        Timer t = ops.get(method);
        return t != null ? t : ops.computeIfAbsent(method, m -> set.timer("hangar_fuse_op_duration",
                "FUSE requests by kind: count and latency", "method", m));
    }

    void openHandles(Map<?, ?> files) {
        set.gauge("hangar_fuse_open_handles", null, "files open through the mount", files, Map::size);
    }

    void close() {
        set.close();
        ops.clear();
    }
}
