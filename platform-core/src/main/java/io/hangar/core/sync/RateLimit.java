package io.hangar.core.sync;

/**
 * A token bucket of bytes per second shared by a sync's copy threads, holding at most one second of bytes
 * (so an idle spell does not allow a burst past the limit). 0 means no limit.
 */
final class RateLimit {
    private final long perSecond;
    private double tokens;
    private long lastNs;

    RateLimit(long perSecond) {
        this.perSecond = perSecond;
        this.lastNs = System.nanoTime();
        this.tokens = perSecond;
    }

    /** Waits until {@code bytes} may pass. A request larger than the bucket waits for its whole share. */
    void acquire(long bytes) throws InterruptedException {
        if (perSecond <= 0) {
            return;
        }
        long waitNs;
        synchronized (this) {
            long now = System.nanoTime();
            tokens = Math.min(perSecond, tokens + (now - lastNs) * (perSecond / 1e9));
            lastNs = now;
            tokens -= bytes; // may go negative: later callers wait for the debt too, which keeps the rate
            waitNs = tokens >= 0 ? 0 : (long) (-tokens / perSecond * 1e9);
        }
        if (waitNs > 0) {
            java.util.concurrent.TimeUnit.NANOSECONDS.sleep(waitNs);
        }
    }
}
