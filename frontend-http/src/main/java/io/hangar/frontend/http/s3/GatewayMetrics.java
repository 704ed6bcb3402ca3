package io.hangar.frontend.http.s3;

import io.micrometer.core.instrument.Counter;
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
import java.util.concurrent.TimeUnit;

/**
 * The meters of one gateway (docs/metrics.md): requests by HTTP method, what they addressed (service, bucket
 * or object) and the status answered, with their latency; bytes received and sent. Removed when it stops.
 */
final class GatewayMetrics {
    private static final Duration[] BUCKETS = buckets();

    private final MeterRegistry registry;
    private final Tags tags;
    private final List<Meter> meters = new CopyOnWriteArrayList<>();
    private final Map<String, Timer> requests = new ConcurrentHashMap<>();
    private final Counter received;
    private final Counter sent;

    GatewayMetrics(MeterRegistry registry, String volume, String listen) {
        this.registry = registry != null ? registry : new CompositeMeterRegistry();
        this.tags = Tags.of("volume", volume, "listen", listen);
        received = keep(Counter.builder("hangar_s3_received_bytes").baseUnit("bytes").tags(tags)
                .description("bytes of requests received (headers excluded)").register(this.registry));
        sent = keep(Counter.builder("hangar_s3_sent_bytes").baseUnit("bytes").tags(tags)
                .description("bytes of responses sent (bodies)").register(this.registry));
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

    /** A request answered: {@code target} is service, bucket or object; status is the HTTP status sent. */
    void answered(String method, String target, int status, long startNs, long bytesIn, long bytesOut) {
        String key = method + ' ' + target + ' ' + status;
        Timer t = requests.get(key);
        if (t == null) {
            t = requests.computeIfAbsent(key, k -> keep(Timer.builder("hangar_s3_request_duration").tags(tags)
                    .tags("method", method, "target", target, "status", Integer.toString(status))
                    .description("S3 requests answered, by method, target and status: count and latency")
                    .serviceLevelObjectives(BUCKETS).register(registry)));
        }
        t.record(System.nanoTime() - startNs, TimeUnit.NANOSECONDS);
        received.increment(bytesIn);
        sent.increment(bytesOut);
    }

    void close() {
        meters.forEach(registry::remove);
        meters.clear();
        requests.clear();
    }
}
