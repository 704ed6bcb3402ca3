package io.hangar.frontend.http.s3;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of request bodies that every request of a gateway together may hold while they wait for the
 * volume. A request whose batch takes the total past the limit pauses (its client sees TCP back-pressure)
 * and is woken, in arrival order, once enough has been written. Each request also has its own smaller
 * bound ({@link S3Handler#HIGH_WATER}), so one fast client cannot take it all.
 */
final class Budget {
    private final long limit;
    private final AtomicLong used = new AtomicLong();
    private final ConcurrentLinkedQueue<Runnable> waiters = new ConcurrentLinkedQueue<>();

    Budget(long limit) {
        this.limit = limit;
    }

    void take(long n) {
        used.addAndGet(n);
    }

    boolean over() {
        return used.get() > limit;
    }

    long used() {
        return used.get();
    }

    void release(long n) {
        used.addAndGet(-n);
        wake();
    }

    /** Runs {@code r} (on any thread) once the total is below the limit; at once if it is now. */
    void await(Runnable r) {
        waiters.add(r);
        wake();
    }

    private void wake() {
        while (!over()) {
            Runnable r = waiters.poll();
            if (r == null) {
                return;
            }
            r.run();
        }
    }
}
