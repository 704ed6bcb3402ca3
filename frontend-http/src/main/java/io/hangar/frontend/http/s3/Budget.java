package io.hangar.frontend.http.s3;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The bytes of request and response bodies that every request of a gateway together may hold in memory.
 * Request bodies are counted as they arrive (the bytes are already here): a request that takes the total
 * past the limit pauses (its client sees TCP back-pressure) and is woken once the total is back under it.
 * A response body is read only once its bytes fit ({@link #acquire}): a GET whose client reads slowly holds
 * what it has read, and no more, until the connection drains. Waiters are woken in arrival order, so a
 * large read is not overtaken forever by small ones. Each request also has its own smaller bound
 * ({@link S3Handler#HIGH_WATER}), so one fast client cannot take it all.
 */
public final class Budget {
    private final long limit;
    private long used;
    private long peak;
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();

    private record Waiter(long bytes, Runnable then) {
    }

    public Budget(long limit) {
        this.limit = limit;
    }

    public long limit() {
        return limit;
    }

    /** Counts bytes that are already held (a request body's piece as it arrives), whether or not they fit. */
    public synchronized void take(long n) {
        used += n;
        peak = Math.max(peak, used);
    }

    public synchronized boolean over() {
        return used > limit;
    }

    public synchronized long used() {
        return used;
    }

    /** The most ever held at once. */
    public synchronized long peak() {
        return peak;
    }

    public void release(long n) {
        List<Runnable> run;
        synchronized (this) {
            used -= n;
            run = wake();
        }
        run.forEach(Runnable::run);
    }

    /** Runs {@code r} (on any thread) once the total is no longer over the limit; at once if it is not now. */
    public void await(Runnable r) {
        enqueue(0, r);
    }

    /** {@link #await}, with {@code then} run on {@code context} (a request's event loop). */
    public void awaitOn(io.vertx.core.Context context, Runnable then) {
        await(() -> context.runOnContext(v -> then.run()));
    }

    /**
     * {@link #acquire}, with {@code then} run at once when the bytes fit now, else on {@code context} once they
     * have been taken for it.
     */
    public void acquireOn(long n, io.vertx.core.Context context, Runnable then) {
        if (acquire(n, () -> context.runOnContext(v -> then.run()))) {
            then.run();
        }
    }

    /**
     * Takes {@code n} bytes that are about to be allocated: now, returning true, if they fit and nobody waits
     * before; otherwise false, and {@code then} runs (on any thread) once they have been taken for it. A
     * request larger than the whole limit gets it when nothing else is held.
     */
    public boolean acquire(long n, Runnable then) {
        synchronized (this) {
            if (waiters.isEmpty() && fits(n)) {
                take(n);
                return true;
            }
        }
        enqueue(n, then);
        return false;
    }

    private void enqueue(long n, Runnable r) {
        List<Runnable> run;
        synchronized (this) {
            waiters.add(new Waiter(n, r));
            run = wake();
        }
        run.forEach(Runnable::run);
    }

    private boolean fits(long n) {
        return n == 0 ? used <= limit : used + n <= limit || used == 0;
    }

    /** Under the lock: takes for the waiters at the head that fit now; returns what to run outside it. */
    private List<Runnable> wake() {
        List<Runnable> run = List.of();
        while (!waiters.isEmpty() && fits(waiters.peek().bytes())) {
            Waiter w = waiters.poll();
            take(w.bytes());
            if (run.isEmpty()) {
                run = new ArrayList<>();
            }
            run.add(w.then());
        }
        return run;
    }
}
