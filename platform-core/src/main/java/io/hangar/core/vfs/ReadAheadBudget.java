package io.hangar.core.vfs;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The part of the volume's write-buffer memory ({@link BufferBudget}, {@code bufferSize}) that read-ahead may
 * hold: at most half of it, and only what no writer is waiting for. Read-ahead never waits for memory; without
 * it a stream reads on demand. So {@code bufferSize} bounds write buffers and read-ahead together.
 */
final class ReadAheadBudget {
    private final BufferBudget buffers;
    private final long limit;
    private final AtomicLong held = new AtomicLong();
    private final VfsMetrics metrics;

    ReadAheadBudget(BufferBudget buffers, VfsMetrics metrics) {
        this.buffers = buffers;
        this.limit = buffers.total() / 2;
        this.metrics = metrics;
    }

    /** Reserves {@code bytes} for a block fetched ahead, or returns false at once. */
    boolean tryReserve(int bytes) {
        if (held.addAndGet(bytes) > limit) {
            held.addAndGet(-bytes);
            return false;
        }
        if (!buffers.tryAcquire(bytes)) {
            held.addAndGet(-bytes);
            return false;
        }
        return true;
    }

    /** Gives a dropped block's memory back once its fetch has ended (its bytes are unreachable then). */
    void giveBack(ReadAhead.Block b) {
        b.fetch.cancel(); // not started yet: never started
        b.data.whenComplete((d, t) -> {
            if (d != null) {
                d.release(); // readers copying from it hold references of their own
                if (b.unread > 0) {
                    metrics.readAheadWastedBytes.increment(b.unread);
                }
            }
            held.addAndGet(-b.length);
            buffers.returnUnused(b.length);
        });
    }

    /** Bytes read-ahead holds now, fetched or in flight. */
    long held() {
        return held.get();
    }
}
