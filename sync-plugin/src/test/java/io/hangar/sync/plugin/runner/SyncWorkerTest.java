package io.hangar.sync.plugin.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.spi.sync.RepoChange;
import io.hangar.spi.sync.SourceView;
import io.hangar.spi.sync.SyncRequest;
import io.hangar.spi.sync.SyncStrategy;
import io.hangar.sync.SyncListener;
import io.hangar.sync.SyncReport;
import io.hangar.sync.SyncSpec;
import io.hangar.sync.SyncStatus;
import io.hangar.sync.VolumeSync;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The runner's retry and status rules, against a VolumeSync that answers as told (the copying itself is
 * tested on real volumes in VolumeSyncTest and the sync suite).
 */
class SyncWorkerTest {
    private static final SyncWorker.Settings SETTINGS = SyncWorker.Settings.of(Map.of(
            SyncStrategy.SOURCE, "redis://a/1", SyncStrategy.DESTINATION, "redis://b/1"));

    @Test
    void aRunWithFailedFilesIsTriedAgainAndKeepsTheFiguresItRecorded() throws Exception {
        Answers sync = new Answers();
        sync.reports.add(report(1));
        sync.reports.add(report(0));
        SyncWorker w = new SyncWorker(sync, new OneRequest(), SETTINGS);
        w.start();
        try {
            sync.awaitSyncs(2, SyncWorker.BACKOFF_MS + 10_000);
        } finally {
            w.stop();
        }
        assertEquals(List.of("/m", "/m"), sync.paths, "the failed request, then the same again");
        assertTrue(sync.recorded.isEmpty(), "a sync that ran records its own status: " + sync.recorded);
    }

    @Test
    void aSyncThatCouldNotRunIsRecordedAsFailedAndTriedAgain() throws Exception {
        Answers sync = new Answers();
        sync.failures.add(new FsException(Errno.EIO, "destination unreachable"));
        sync.reports.add(report(0));
        SyncWorker w = new SyncWorker(sync, new OneRequest(), SETTINGS);
        w.start();
        try {
            sync.awaitSyncs(2, SyncWorker.BACKOFF_MS + 10_000);
        } finally {
            w.stop();
        }
        assertEquals(1, sync.recorded.size(), sync.recorded.toString());
        SyncStatus s = sync.recorded.get(0);
        assertEquals("failed", s.state());
        assertTrue(s.error().contains("destination unreachable"), s.error());
        assertEquals("redis://a/1", s.source());
    }

    @Test
    void aRunnerStartedAgainGoesOnAfterTheLastChangeItHandled() throws Exception {
        Answers sync = new Answers();
        for (int i = 1; i <= 3; i++) {
            sync.log.add(change(i));
        }
        SyncWorker first = new SyncWorker(sync, new EachChange(), SETTINGS);
        first.start();
        try {
            sync.awaitPosition(3, 10_000);
        } finally {
            first.stop();
        }
        assertEquals(List.of("/m1", "/m2", "/m3"), sync.paths);

        sync.log.add(change(4));
        SyncWorker again = new SyncWorker(sync, new EachChange(), SETTINGS);
        again.start();
        try {
            sync.awaitPosition(4, 10_000);
        } finally {
            again.stop();
        }
        assertEquals(List.of("/m1", "/m2", "/m3", "/m4"), sync.paths, "only the change made since");
    }

    @Test
    void aPositionTheSourcesLogDoesNotHoldIsReadFromTheStart() throws Exception {
        Answers sync = new Answers();
        sync.log.add(change(1));
        sync.log.add(change(2));
        // Recorded against a log made anew since: its change 2 is another one.
        sync.positions.put("test", new RepoChange(2, 99, "tag.set", "t", "other"));
        SyncWorker w = new SyncWorker(sync, new EachChange(), SETTINGS);
        w.start();
        try {
            sync.awaitPosition(2, 10_000);
            sync.awaitSyncs(2, 10_000);
        } finally {
            w.stop();
        }
        assertEquals(List.of("/m1", "/m2"), sync.paths);
        assertEquals(change(2), sync.positions.get("test"));
    }

    @Test
    void aChangeThatLeadsToMoreThanOneAnswerIsHandledWholeBeforeItsPositionIsRecorded() throws Exception {
        Answers sync = new Answers();
        sync.log.add(change(1));
        SyncWorker w = new SyncWorker(sync, new Fanout(2500), SETTINGS);
        w.start();
        try {
            sync.awaitPosition(1, 30_000);
        } finally {
            w.stop();
        }
        assertEquals(2500, sync.paths.size(), "every request of the change ran");
        assertEquals(2500, java.util.Set.copyOf(sync.paths).size());
        assertEquals(List.of(2500), sync.pathsWhenRecorded, "the position only once all of them had");
    }

    private static RepoChange change(long seq) {
        return new RepoChange(seq, 1000 + seq, "tag.set", "t", "m" + seq);
    }

    private static SyncReport report(long failed) {
        return new SyncReport(1, 1 - failed, 10, 1, 10, 0, 0, 0, failed, 0, 0, 1,
                failed > 0 ? List.of("/m/f: EIO") : List.of());
    }

    /** Asks for /m once, at the first change. */
    private static final class OneRequest implements SyncStrategy {
        private boolean asked;

        @Override
        public String describe() {
            return "test";
        }

        @Override
        public List<SyncRequest> due(long nowMs, List<RepoChange> changes, SourceView source) {
            if (asked || changes.isEmpty()) {
                return List.of();
            }
            asked = true;
            return List.of(new SyncRequest("/m", false, "test"));
        }
    }

    /** Asks for /m plus the change's number, for each change. */
    private static final class EachChange implements SyncStrategy {
        @Override
        public String describe() {
            return "test";
        }

        @Override
        public List<SyncRequest> due(long nowMs, List<RepoChange> changes, SourceView source) {
            return changes.stream().map(c -> new SyncRequest("/m" + c.seq(), false, "test")).toList();
        }
    }

    /** For each change, {@code n} requests, at most MAX_REQUESTS an answer, the rest in the calls after. */
    private static final class Fanout implements SyncStrategy {
        private final int n;
        private final ArrayDeque<SyncRequest> backlog = new ArrayDeque<>();

        Fanout(int n) {
            this.n = n;
        }

        @Override
        public String describe() {
            return "test";
        }

        @Override
        public List<SyncRequest> due(long nowMs, List<RepoChange> changes, SourceView source) {
            for (RepoChange c : changes) {
                for (int i = 0; i < n; i++) {
                    backlog.add(new SyncRequest("/m" + c.seq() + "/p" + i, false, "test"));
                }
            }
            List<SyncRequest> out = new java.util.ArrayList<>();
            while (!backlog.isEmpty() && out.size() < MAX_REQUESTS) {
                out.add(backlog.poll());
            }
            return out;
        }
    }

    private static final class Answers implements VolumeSync {
        /** The source's log; the default one change, for strategies that only need something to happen. */
        final List<RepoChange> log = new CopyOnWriteArrayList<>();
        final Map<String, RepoChange> positions = new ConcurrentHashMap<>();

        final Queue<SyncReport> reports = new ArrayDeque<>();
        final Queue<FsException> failures = new ArrayDeque<>();
        final List<String> paths = new CopyOnWriteArrayList<>();
        final List<SyncStatus> recorded = new CopyOnWriteArrayList<>();
        /** How many syncs had run each time a position was recorded. */
        final List<Integer> pathsWhenRecorded = new CopyOnWriteArrayList<>();

        @Override
        public synchronized SyncReport sync(SyncSpec spec, SyncListener listener) throws FsException {
            paths.add(spec.path());
            notifyAll();
            FsException f = failures.poll();
            if (f != null) {
                throw f;
            }
            SyncReport r = reports.poll();
            return r != null ? r : report(0);
        }

        synchronized void awaitSyncs(int n, long timeoutMs) throws InterruptedException {
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            while (paths.size() < n) {
                long left = TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime());
                if (left <= 0) {
                    throw new AssertionError("only " + paths.size() + " syncs of " + n + " in " + timeoutMs + " ms");
                }
                wait(left);
            }
        }

        synchronized void awaitPosition(long seq, long timeoutMs) throws InterruptedException {
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            while (positions.get("test") == null || positions.get("test").seq() < seq) {
                long left = TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime());
                if (left <= 0) {
                    throw new AssertionError("position " + positions.get("test") + ", not " + seq);
                }
                wait(left);
            }
        }

        @Override
        public Optional<RepoChange> position(String metaUrl, String source, String name) {
            return Optional.ofNullable(positions.get(name));
        }

        @Override
        public synchronized void recordPosition(String metaUrl, String source, String name, RepoChange last) {
            pathsWhenRecorded.add(paths.size());
            positions.put(name, last);
            notifyAll();
        }

        @Override
        public List<SyncStatus> status(String metaUrl) {
            return List.copyOf(recorded);
        }

        @Override
        public void recordStatus(String metaUrl, SyncStatus status) {
            recorded.add(status);
        }

        @Override
        public Source source(String metaUrl) {
            return new Source() {
                @Override
                public List<RepoChange> changes(long afterSeq, int limit) {
                    List<RepoChange> all = log.isEmpty() ? List.of(new RepoChange(1, 0, "tag.set", "t", "m")) : log;
                    return all.stream().filter(c -> c.seq() > afterSeq).limit(limit).toList();
                }

                @Override
                public Map<String, Integer> tags(String team, String model) {
                    return Map.of();
                }

                @Override
                public void close() {
                }
            };
        }
    }
}
