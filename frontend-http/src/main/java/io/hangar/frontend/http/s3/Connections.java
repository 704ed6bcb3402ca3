package io.hangar.frontend.http.s3;

import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The gateway's open connections, at most {@code limit}: each holds some memory the request budget does not
 * count (socket buffers, a header section, the piece of a body that arrived as it paused), so their number
 * is what bounds that memory. A connection past the limit is not served: its first request is answered 503
 * SlowDown (clients retry with backoff) and it is closed. Vert.x reports an HTTP/1 connection with its first
 * request, so one that never sends a request is not counted: it holds only its socket, and the idle timeout
 * closes it.
 */
final class Connections {
    private final int limit;
    private final AtomicLong open = new AtomicLong();
    private final AtomicLong refusedTotal = new AtomicLong();
    private final Set<HttpConnection> refused = ConcurrentHashMap.newKeySet();

    Connections(int limit) {
        this.limit = limit;
    }

    /** A new connection: counted until it closes; marked refused when it is one too many. */
    void opened(HttpConnection conn) {
        if (open.incrementAndGet() > limit) {
            refused.add(conn);
            refusedTotal.incrementAndGet();
        }
        conn.closeHandler(v -> {
            refused.remove(conn);
            open.decrementAndGet();
        });
    }

    /** True when {@code req} came on a refused connection and has been answered. */
    boolean refuse(HttpServerRequest req) {
        if (!refused.contains(req.connection())) {
            return false;
        }
        S3Gateway.answerAndClose(req, 503, "SlowDown", "Please reduce your request rate: the gateway serves "
                + limit + " connections at most.");
        return true;
    }

    long open() {
        return open.get();
    }

    long refusedTotal() {
        return refusedTotal.get();
    }

    int limit() {
        return limit;
    }
}
