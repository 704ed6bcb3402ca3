package io.hangar.sync.plugin.runner;

import io.hangar.spi.sync.RepoChange;
import io.hangar.spi.sync.SyncRequest;
import io.hangar.spi.sync.SyncStrategy;
import io.hangar.sync.SyncListener;
import io.hangar.sync.SyncReport;
import io.hangar.sync.SyncSpec;
import io.hangar.sync.SyncStatus;
import io.hangar.sync.VolumeSync;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Drives one strategy: about once a second it reads the source's new repository changes, asks the strategy
 * what is due and runs it, one sync at a time, warming what the strategy asked to warm. A failure (a backend
 * unreachable, files that could not be applied) is logged and recorded in the destination's sync status, and
 * the request is tried again after {@link #BACKOFF_MS}, before any new change is read. Once every request a
 * page of changes led to is done, the last change is recorded at the destination as this runner's position; on
 * start it goes on after it, so what changed while no runner ran is synced and nothing older is read again
 * (the first time, or when the source's log no longer holds that change, it reads the log from its start).
 */
final class SyncWorker implements Runnable {
    private static final Logger LOG = Logger.getLogger(SyncWorker.class.getName());
    static final long TICK_MS = 1000;
    static final long BACKOFF_MS = 5000;
    static final int PAGE = 1000;

    /** The strategy's service properties that say where and how to copy. */
    record Settings(String source, String destination, String warmGroup, int threads, long bwlimit, boolean delete) {
        static Settings of(Map<String, Object> p) {
            String src = string(p, SyncStrategy.SOURCE);
            String dst = string(p, SyncStrategy.DESTINATION);
            if (src.isBlank() || dst.isBlank()) {
                throw new IllegalArgumentException("the properties " + SyncStrategy.SOURCE + " and "
                        + SyncStrategy.DESTINATION + " name the volumes");
            }
            Settings s = new Settings(src, dst, string(p, SyncStrategy.WARM_GROUP),
                    (int) number(p, SyncStrategy.THREADS, 8), number(p, SyncStrategy.BWLIMIT, 0),
                    Boolean.parseBoolean(String.valueOf(p.getOrDefault(SyncStrategy.DELETE, "false"))));
            s.spec("/", "check", false);
            return s;
        }

        SyncSpec spec(String path, String name, boolean warm) {
            return new SyncSpec(source, destination, path, name, false, delete, threads, bwlimit, warm ? warmGroup : "");
        }

        private static String string(Map<String, Object> p, String key) {
            Object v = p.get(key);
            return v == null ? "" : v.toString().trim();
        }

        private static long number(Map<String, Object> p, String key, long dflt) {
            Object v = p.get(key);
            if (v == null || v.toString().isBlank()) {
                return dflt;
            }
            try {
                return v instanceof Number n ? n.longValue() : Long.parseLong(v.toString().trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(key + " is no number: " + v);
            }
        }
    }

    private final VolumeSync sync;
    private final SyncStrategy strategy;
    private final Settings settings;
    private final Thread thread;
    private volatile boolean running = true;
    private long cursor;
    /** The last change read, and the last one recorded at the destination as this runner's position. */
    private RepoChange last;
    private RepoChange saved;
    private boolean positioned;
    /** The strategy's last answer was full: it may hold more for the changes already read. */
    private boolean draining;
    /** Requests answered but not done: a failed one stays first and is tried again after the back-off. */
    private final java.util.ArrayDeque<SyncRequest> pending = new java.util.ArrayDeque<>();

    SyncWorker(VolumeSync sync, SyncStrategy strategy, Settings settings) {
        this.sync = sync;
        this.strategy = strategy;
        this.settings = settings;
        this.thread = new Thread(this, "hangar-sync " + strategy.describe());
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Stops after the sync in progress, if any (waits for it at most 30 s). */
    void stop() {
        running = false;
        thread.interrupt();
        try {
            thread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void run() {
        LOG.info("sync " + strategy.describe() + ": " + shown(settings.source) + " -> " + shown(settings.destination));
        while (running) {
            try (VolumeSync.Source source = sync.source(settings.source)) {
                if (!positioned) {
                    cursor = resume(source);
                    positioned = true;
                }
                while (running) {
                    int read = 0;
                    if (pending.isEmpty()) {
                        // After a full answer the strategy holds more: asked again before the log is read on.
                        List<RepoChange> changes = draining ? List.of() : source.changes(cursor, PAGE);
                        read = changes.size();
                        for (RepoChange c : changes) {
                            if (c.seq() > cursor) {
                                cursor = c.seq();
                                last = c;
                            }
                        }
                        List<SyncRequest> due = strategy.due(System.currentTimeMillis(), changes, source);
                        draining = due.size() >= SyncStrategy.MAX_REQUESTS;
                        pending.addAll(due);
                    }
                    while (!pending.isEmpty()) {
                        if (!running) {
                            return;
                        }
                        runOne(pending.peekFirst());
                        pending.pollFirst();
                    }
                    if (draining) {
                        // The changes read are handled once the strategy has answered all they led to.
                        continue;
                    }
                    savePosition();
                    if (read < PAGE) {
                        Thread.sleep(TICK_MS);
                    }
                }
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                if (!running) {
                    return;
                }
                LOG.log(Level.WARNING, "sync " + strategy.describe() + " failed, again in " + BACKOFF_MS / 1000
                        + " s: " + e.getMessage(), e instanceof FilesFailed ? null : e);
                if (!(e instanceof FilesFailed)) {
                    // The sync recorded its own failure with its figures when it ran; this one did not run.
                    record("failed", String.valueOf(e.getMessage()));
                }
                try {
                    Thread.sleep(BACKOFF_MS);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /**
     * Where to go on reading the source's log: after the change recorded at the destination when the log still
     * holds that very change; from the start the first time, or when the source's log was made anew.
     */
    private long resume(VolumeSync.Source source) throws Exception {
        Optional<RepoChange> p = sync.position(settings.destination, settings.source, strategy.describe());
        if (p.isEmpty()) {
            return 0;
        }
        RepoChange r = p.get();
        List<RepoChange> at = source.changes(r.seq() - 1, 1);
        if (!at.isEmpty() && at.get(0).equals(r)) {
            last = r;
            saved = r;
            LOG.info("sync " + strategy.describe() + ": going on after change " + r.seq() + " of the source's log");
            return r.seq();
        }
        LOG.info("sync " + strategy.describe() + ": the source's log no longer holds change " + r.seq()
                + " recorded as handled: reading it from its start");
        return 0;
    }

    /** Records the last change read once every request it led to is done (a crash before: read again). */
    private void savePosition() {
        if (last == null || last.equals(saved)) {
            return;
        }
        try {
            sync.recordPosition(settings.destination, settings.source, strategy.describe(), last);
            saved = last;
        } catch (Exception e) {
            LOG.log(Level.FINE, "sync position not recorded (again after the next change)", e);
        }
    }

    private void runOne(SyncRequest r) throws Exception {
        long t0 = System.nanoTime();
        boolean warm = r.warm() && !settings.warmGroup.isBlank();
        SyncReport rep = sync.sync(settings.spec(r.path(), strategy.describe(), warm), SyncListener.NONE);
        double secs = (System.nanoTime() - t0) / 1e9;
        LOG.info(String.format("sync %s: %s (%s): %d files applied, %d unchanged, %d bytes copied, %s in %.2f s, "
                + "%d conflicts, %d failed", strategy.describe(), r.path(), r.reason(), rep.copiedFiles(),
                rep.skipped(), rep.copiedBytes(), warm ? rep.warmedBytes() + " bytes warmed into cache group "
                        + settings.warmGroup : "no warm-up", secs, rep.conflicts(), rep.failed()));
        for (String p : rep.problems()) {
            LOG.warning("sync " + strategy.describe() + ": " + p);
        }
        if (rep.failed() > 0) {
            // A store or engine error: the request is tried again after the back-off (conflicts are not).
            throw new FilesFailed(rep.failed() + " files of " + r.path() + " failed");
        }
    }

    /** A sync that ran and left files it could not apply (its status, with its figures, is recorded already). */
    static final class FilesFailed extends Exception {
        private static final long serialVersionUID = 1L;

        FilesFailed(String message) {
            super(message, null, false, false);
        }
    }

    private void record(String state, String error) {
        try {
            long now = System.currentTimeMillis();
            sync.recordStatus(settings.destination, new SyncStatus(settings.source, strategy.describe(), state, now,
                    now, 0, 0, 0, 0, 0, 1, error));
        } catch (Exception e) {
            LOG.log(Level.FINE, "sync status not recorded", e);
        }
    }

    private static String shown(String url) {
        return url.replaceAll("//[^@/]*@", "//");
    }
}
