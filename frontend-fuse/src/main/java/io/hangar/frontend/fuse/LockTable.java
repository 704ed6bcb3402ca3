package io.hangar.frontend.fuse;

import io.hangar.vfs.Volume;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.function.BooleanSupplier;

/**
 * POSIX record locks (fcntl) and BSD locks (flock) of one volume, held in this process. Every mount of the same
 * {@link Volume} object in this JVM shares one table, so their users exclude each other; other processes
 * and hosts mounting the volume do not see these locks, since the metadata engines keep no lock state.
 *
 * <p>POSIX locks belong to a lock owner (the kernel's id of a process's file table) and follow fcntl(2):
 * ranges split and merge, a conflicting request fails with EAGAIN or waits, a wait that would close a cycle
 * fails with EDEADLK. BSD locks belong to one open file and follow flock(2), including the non-atomic
 * conversion between shared and exclusive. A blocked request gives up with EINTR when the caller's
 * {@code interrupted} check says so (the kernel interrupted the request).
 */
public final class LockTable {
    /** Lock end meaning "to the end of the file, however far it grows". */
    public static final long TO_EOF = Long.MAX_VALUE;
    private static final long POLL_MS = 50;
    private static final Map<Volume, LockTable> TABLES = new WeakHashMap<>();

    /** A held POSIX lock; {@code end} is inclusive; {@code mount} tags who took it, for its cleanup. */
    public record Held(long owner, long pid, boolean write, long start, long end, int mount) {
        boolean overlaps(long s, long e) {
            return start <= e && s <= end;
        }
    }

    private record Wait(long inode, boolean write, long start, long end) {
    }

    private final Map<Long, List<Held>> posix = new HashMap<>();
    private final Map<Long, Map<Long, Boolean>> bsd = new HashMap<>();
    private final Map<Long, Wait> waiting = new HashMap<>();

    public static LockTable of(Volume volume) {
        synchronized (TABLES) {
            return TABLES.computeIfAbsent(volume, v -> new LockTable());
        }
    }

    // ---- POSIX record locks ----

    /** The first lock of another owner that conflicts with the described one (F_GETLK), or null. */
    public synchronized Held conflict(long inode, long owner, boolean write, long start, long end) {
        for (Held h : posix.getOrDefault(inode, List.of())) {
            if (h.owner != owner && h.overlaps(start, end) && (write || h.write)) {
                return h;
            }
        }
        return null;
    }

    /** F_SETLK / F_SETLKW with a read or write lock. */
    public synchronized void lock(int mount, long inode, long owner, long pid, boolean write, long start, long end,
            boolean wait, BooleanSupplier interrupted) throws Errnos.LockFailure, InterruptedException {
        Held blocker;
        while ((blocker = conflict(inode, owner, write, start, end)) != null) {
            if (!wait) {
                throw new Errnos.LockFailure(Errnos.EAGAIN, "range is locked by pid " + blocker.pid);
            }
            if (closesCycle(owner, inode, write, start, end)) {
                throw new Errnos.LockFailure(Errnos.EDEADLK, "waiting would deadlock");
            }
            awaitChange(owner, new Wait(inode, write, start, end), interrupted);
        }
        List<Held> locks = posix.computeIfAbsent(inode, k -> new ArrayList<>());
        long s = start;
        long e = end;
        List<Held> kept = new ArrayList<>(locks.size() + 2);
        for (Held h : locks) {
            boolean adjacent = (h.end != TO_EOF && h.end + 1 == s) || (e != TO_EOF && e + 1 == h.start);
            if (h.owner != owner || !(h.overlaps(s, e) || adjacent && h.write == write)) {
                kept.add(h);
            } else if (h.write == write) {
                s = Math.min(s, h.start);
                e = Math.max(e, h.end);
            } else {
                keepOutside(kept, h, start, end);
            }
        }
        kept.add(new Held(owner, pid, write, s, e, mount));
        posix.put(inode, kept);
        notifyAll();
    }

    /** F_SETLK with F_UNLCK: releases the owner's locks within the range. */
    public synchronized void unlock(long inode, long owner, long start, long end) {
        List<Held> locks = posix.get(inode);
        if (locks == null) {
            return;
        }
        List<Held> kept = new ArrayList<>(locks.size() + 1);
        for (Held h : locks) {
            if (h.owner == owner && h.overlaps(start, end)) {
                keepOutside(kept, h, start, end);
            } else {
                kept.add(h);
            }
        }
        if (kept.isEmpty()) {
            posix.remove(inode);
        } else {
            posix.put(inode, kept);
        }
        notifyAll();
    }

    private static void keepOutside(List<Held> kept, Held h, long start, long end) {
        if (h.start < start) {
            kept.add(new Held(h.owner, h.pid, h.write, h.start, start - 1, h.mount));
        }
        if (h.end > end) {
            kept.add(new Held(h.owner, h.pid, h.write, end + 1, h.end, h.mount));
        }
    }

    /** Whether {@code owner} waiting for the range would wait, through other waiters, on itself. */
    private boolean closesCycle(long owner, long inode, boolean write, long start, long end) {
        Set<Long> seen = new HashSet<>();
        List<Long> frontier = blockers(owner, inode, write, start, end);
        while (!frontier.isEmpty()) {
            long o = frontier.remove(frontier.size() - 1);
            if (o == owner) {
                return true;
            }
            Wait w = waiting.get(o);
            if (w != null && seen.add(o)) {
                frontier.addAll(blockers(o, w.inode, w.write, w.start, w.end));
            }
        }
        return false;
    }

    private List<Long> blockers(long owner, long inode, boolean write, long start, long end) {
        List<Long> out = new ArrayList<>();
        for (Held h : posix.getOrDefault(inode, List.of())) {
            if (h.owner != owner && h.overlaps(start, end) && (write || h.write)) {
                out.add(h.owner);
            }
        }
        return out;
    }

    // ---- BSD locks ----

    /** flock(2) LOCK_SH / LOCK_EX for the open file {@code file}. */
    public synchronized void flock(long inode, long file, boolean exclusive, boolean wait, BooleanSupplier interrupted)
            throws Errnos.LockFailure, InterruptedException {
        Map<Long, Boolean> holders = bsd.computeIfAbsent(inode, k -> new HashMap<>());
        Boolean mine = holders.get(file);
        if (mine != null && mine == exclusive) {
            return;
        }
        if (mine != null) {
            // Like Linux: a conversion drops the old lock first, so others may get in between.
            holders.remove(file);
            notifyAll();
        }
        while (flockConflict(holders, file, exclusive)) {
            if (!wait) {
                dropIfEmpty(inode, holders);
                throw new Errnos.LockFailure(Errnos.EAGAIN, "file is locked");
            }
            awaitChange(null, null, interrupted);
            holders = bsd.computeIfAbsent(inode, k -> new HashMap<>());
        }
        holders.put(file, exclusive);
    }

    private static boolean flockConflict(Map<Long, Boolean> holders, long file, boolean exclusive) {
        for (Map.Entry<Long, Boolean> h : holders.entrySet()) {
            if (h.getKey() != file && (exclusive || h.getValue())) {
                return true;
            }
        }
        return false;
    }

    /** LOCK_UN, and the implicit unlock when the last descriptor of the open file is closed. */
    public synchronized void funlock(long inode, long file) {
        Map<Long, Boolean> holders = bsd.get(inode);
        if (holders != null && holders.remove(file) != null) {
            dropIfEmpty(inode, holders);
            notifyAll();
        }
    }

    private void dropIfEmpty(long inode, Map<Long, Boolean> holders) {
        if (holders.isEmpty()) {
            bsd.remove(inode);
        }
    }

    // ---- waiting ----

    /** Waits for any change of the table; polls {@code interrupted} since the kernel's interrupt is a flag. */
    private void awaitChange(Long owner, Wait request, BooleanSupplier interrupted)
            throws Errnos.LockFailure, InterruptedException {
        if (owner != null) {
            waiting.put(owner, request);
        }
        try {
            wait(POLL_MS);
        } finally {
            if (owner != null) {
                waiting.remove(owner);
            }
        }
        if (interrupted.getAsBoolean()) {
            throw new Errnos.LockFailure(Errnos.EINTR, "interrupted while waiting for a lock");
        }
    }

    /** The POSIX locks on {@code inode}, ordered by start (what a lock listing would show). */
    public synchronized List<Held> posixLocks(long inode) {
        List<Held> out = new ArrayList<>(posix.getOrDefault(inode, List.of()));
        out.sort((a, b) -> Long.compare(a.start, b.start));
        return out;
    }

    /** Forgets every lock a mount took and the BSD locks of the open files it leaves behind. */
    public synchronized void releaseAll(int mount, Set<Long> files) {
        for (Iterator<Map<Long, Boolean>> it = bsd.values().iterator(); it.hasNext();) {
            Map<Long, Boolean> holders = it.next();
            holders.keySet().removeAll(files);
            if (holders.isEmpty()) {
                it.remove();
            }
        }
        for (Iterator<List<Held>> it = posix.values().iterator(); it.hasNext();) {
            List<Held> locks = it.next();
            locks.removeIf(h -> h.mount == mount);
            if (locks.isEmpty()) {
                it.remove();
            }
        }
        notifyAll();
    }
}
