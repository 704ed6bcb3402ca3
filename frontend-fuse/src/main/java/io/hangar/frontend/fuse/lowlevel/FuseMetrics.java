package io.hangar.frontend.fuse.lowlevel;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * The meters of one mount (docs/metrics.md): operations by kind, bytes read and written, open handles. Removed
 * from the registry when the mount ends.
 */
final class FuseMetrics {
    /** The volume's latency buckets (100 µs doubling to about 13 s), so FUSE and engine histograms line up. */
    private static final Duration[] BUCKETS = buckets();

    private final MeterRegistry registry;
    private final Tags tags;
    private final List<Meter> meters = new CopyOnWriteArrayList<>();
    private final Map<String, Timer> ops = new ConcurrentHashMap<>();
    final Counter readBytes;
    final Counter writtenBytes;

    FuseMetrics(MeterRegistry registry, String volume, String mountpoint) {
        this.registry = registry != null ? registry : new CompositeMeterRegistry();
        this.tags = Tags.of("volume", volume, "mountpoint", mountpoint);
        readBytes = keep(Counter.builder("hangar_fuse_read_bytes").baseUnit("bytes").tags(tags)
                .description("bytes replied to read requests").register(this.registry));
        writtenBytes = keep(Counter.builder("hangar_fuse_written_bytes").baseUnit("bytes").tags(tags)
                .description("bytes of write requests accepted").register(this.registry));
    }

    private static Duration[] buckets() {
        Duration[] d = new Duration[18];
        for (int i = 0; i < d.length; i++) {
            d[i] = Duration.ofNanos(100_000L << i);
        }
        return d;
    }

    private <M extends Meter> M keep(M m) {
        meters.add(m);
        return m;
    }

    /** The timer of one kind of request (lookup, read, write, ...), created on its first use. */
    Timer op(String method) {
        Timer t = ops.get(method);
        return t != null ? t : ops.computeIfAbsent(method, m -> keep(Timer.builder("hangar_fuse_op_duration")
                .tags(tags).tag("method", m).description("FUSE requests by kind: count and latency")
                .serviceLevelObjectives(BUCKETS).register(registry)));
    }

    void openHandles(Supplier<Number> count) {
        keep(Gauge.builder("hangar_fuse_open_handles", count).tags(tags)
                .description("files open through the mount").strongReference(true).register(registry));
    }

    void close() {
        meters.forEach(registry::remove);
        meters.clear();
        ops.clear();
    }
}
