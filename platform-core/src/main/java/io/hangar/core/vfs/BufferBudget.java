package io.hangar.core.vfs;

import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The memory write buffers may hold: partly filled buffers of open slices plus blocks handed to uploads that
 * have not finished. Writers wait here when it is used up: back-pressure instead of unbounded heap.
 *
 * <p>Only uploads give memory back, and a partly filled buffer is uploaded only when its slice is sealed. So
 * that many files with partial buffers cannot use the budget up and then wait for each other forever, a
 * writer that has to wait first has the largest partial buffers of other, idle files uploaded (their slices
 * sealed early, see {@link Holder#tryShip}); and when nothing is uploading that would free memory and
 * nothing else can be shipped, it is told to ship its own partial buffer ({@link #acquire} returns false).
 * Waiters are served in arrival order.
 */
final class BufferBudget {
    /** A writer that may hold a partly filled buffer. */
    interface Holder {
        /** Bytes of buffer it holds that shipping would hand to the uploads; read without its lock. */
        int heldBytes();

        /** Seals the open slice so that its buffer is uploaded, unless the holder is busy; never blocks. */
        boolean tryShip();
    }

    private static final long RESCAN_MS = 20;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Object> waiters = new ArrayDeque<>();
    private final Set<Holder> holders = ConcurrentHashMap.newKeySet();
    private final long total;
    private long free;
    private long uploading;
    private final VfsMetrics metrics;

    BufferBudget(long bytes, VfsMetrics metrics) {
        this.metrics = metrics;
        this.total = bytes;
        this.free = bytes;
    }

    long total() {
        return total;
    }

    /** Bytes reserved now: write buffers, uploads in flight and read-ahead. */
    long used() {
        lock.lock();
        try {
            return total - free;
        } finally {
            lock.unlock();
        }
    }

    void register(Holder h) {
        holders.add(h);
    }

    void unregister(Holder h) {
        holders.remove(h);
    }

    /** Reserves {@code bytes} only if they are free now and no writer waits (read-ahead's way in). */
    boolean tryAcquire(int bytes) {
        lock.lock();
        try {
            if (waiters.isEmpty() && free >= bytes) {
                free -= bytes;
                return true;
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Reserves {@code bytes} of buffer for {@code self}. Returns true when reserved. Returns false, having
     * reserved nothing, only if {@code holdsBuffer} and the budget cannot be freed otherwise: the caller must
     * then ship the buffer it holds (seal its slice) and ask again without one.
     */
    boolean acquire(int bytes, Holder self, boolean holdsBuffer) throws FsException {
        Object me = new Object();
        lock.lock();
        try {
            if (waiters.isEmpty() && free >= bytes) {
                free -= bytes;
                return true;
            }
            waiters.addLast(me);
        } finally {
            lock.unlock();
        }
        long waitStart = System.nanoTime();
        try {
            while (true) {
                long missing;
                lock.lock();
                try {
                    if (waiters.peekFirst() == me && free >= bytes) {
                        free -= bytes;
                        return true;
                    }
                    // What the uploads under way will not give back.
                    missing = bytes - free - uploading;
                } finally {
                    lock.unlock();
                }
                long shipped = missing > 0 ? shipOthers(self, missing) : 0;
                lock.lock();
                try {
                    if (waiters.peekFirst() == me && free >= bytes) {
                        free -= bytes;
                        return true;
                    }
                    if (holdsBuffer && shipped == 0 && uploading == 0) {
                        return false;
                    }
                    // Woken by every upload that gives memory back; the rescan catches buffers of files that
                    // went idle meanwhile, which no upload announces.
                    changed.await(RESCAN_MS, TimeUnit.MILLISECONDS);
                } finally {
                    lock.unlock();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(Errno.EIO, "interrupted while waiting for write buffer");
        } finally {
            metrics.bufferWaits.increment();
            metrics.bufferWaitTime.record(System.nanoTime() - waitStart, TimeUnit.NANOSECONDS);
            lock.lock();
            try {
                waiters.remove(me);
                if (!waiters.isEmpty()) {
                    changed.signalAll(); // the next in line may be served now
                }
            } finally {
                lock.unlock();
            }
        }
    }

    /** Has the largest partial buffers of other writers uploaded until {@code needed} bytes are on the way. */
    private long shipOthers(Holder self, long needed) {
        // Sizes change under us: sort by a snapshot.
        record Candidate(Holder holder, int held) {
        }
        List<Candidate> candidates = new ArrayList<>();
        for (Holder h : holders) {
            int held = h.heldBytes();
            if (h != self && held > 0) {
                candidates.add(new Candidate(h, held));
            }
        }
        candidates.sort(Comparator.comparingInt(Candidate::held).reversed());
        long shipped = 0;
        for (Candidate c : candidates) {
            int held = c.holder().heldBytes();
            if (held > 0 && c.holder().tryShip()) {
                shipped += held;
                if (shipped >= needed) {
                    break;
                }
            }
        }
        return shipped;
    }

    /** A buffer of {@code bytes} was handed to an upload; {@link #release} gives it back when that ends. */
    void uploading(int bytes) {
        lock.lock();
        try {
            uploading += bytes;
        } finally {
            lock.unlock();
        }
    }

    /** An upload of a buffer of {@code bytes} ended (stored or failed). */
    void release(int bytes) {
        lock.lock();
        try {
            uploading -= bytes;
            free += bytes;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Gives back a buffer that was never handed to an upload. */
    void returnUnused(int bytes) {
        lock.lock();
        try {
            free += bytes;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
