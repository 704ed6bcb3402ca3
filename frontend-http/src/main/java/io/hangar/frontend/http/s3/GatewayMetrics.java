package io.hangar.frontend.http.s3;

import io.hangar.metrics.MeterSet;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The meters of one gateway (docs/metrics.md): requests by HTTP method, what they addressed (service, bucket
 * or object) and the status answered, with their latency; bytes received and sent. Removed when it stops.
 */
final class GatewayMetrics {
    private final MeterSet set;
    private final Map<String, Timer> requests = new ConcurrentHashMap<>();
    private final Counter received;
    private final Counter sent;

    GatewayMetrics(MeterRegistry registry, String volume, String listen, Budget budget, Connections connections) {
        set = new MeterSet(registry, Tags.of("volume", volume, "listen", listen));
        set.gauge("hangar_s3_buffered", "bytes", "bytes of request and response bodies the gateway holds (at most "
                + "its bufferMb, plus a piece per connection)", budget, Budget::used);
        set.gauge("hangar_s3_connections", null, "connections open", connections, Connections::open);
        set.functionCounter("hangar_s3_refused_connections", null, "connections refused with 503 SlowDown because "
                + "maxConnections were open", connections, Connections::refusedTotal);
        received = set.counter("hangar_s3_received", "bytes", "bytes of request bodies received");
        sent = set.counter("hangar_s3_sent", "bytes", "bytes of response bodies sent");
    }

    /** A request answered: {@code target} is service, bucket or object; status is the HTTP status sent. */
    void answered(String method, String target, int status, long startNs, long bytesIn, long bytesOut) {
        String key = method + ' ' + target + ' ' + status;
        Timer t = requests.get(key);
        if (t == null) {
            t = requests.computeIfAbsent(key, k -> set.timer("hangar_s3_request_duration",
                    "S3 requests answered, by method, target and status: count and latency", "method", method,
                    "target", target, "status", Integer.toString(status)));
        }
        t.record(System.nanoTime() - startNs, TimeUnit.NANOSECONDS);
        received.increment(bytesIn);
        sent.increment(bytesOut);
    }

    void close() {
        set.close();
        requests.clear();
    }
}
