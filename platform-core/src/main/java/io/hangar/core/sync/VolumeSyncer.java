package io.hangar.core.sync;

import io.hangar.core.layout.ChunkLayout;
import io.hangar.core.vfs.VfsVolume;
import io.hangar.core.volume.VolumeOpener;
import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.VolumeFormat;
import io.hangar.spi.repo.RepositoryStore;
import io.hangar.spi.repo.RepositoryStoreProvider;
import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.sync.RepoChange;
import io.hangar.sync.SyncListener;
import io.hangar.sync.SyncReport;
import io.hangar.sync.SyncSpec;
import io.hangar.sync.SyncStatus;
import io.hangar.sync.VolumeSync;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * {@link VolumeSync} over engines, stores and repository stores found by URL scheme: the framework's services
 * in the runtime, ServiceLoader outside it. Each call opens what it needs and closes it before it returns.
 */
public final class VolumeSyncer implements VolumeSync {
    private final VolumeOpener opener;
    private final Function<String, Optional<RepositoryStoreProvider>> repos;
    private final SyncMetrics metrics;

    public VolumeSyncer(VolumeOpener opener, Function<String, Optional<RepositoryStoreProvider>> repos,
            SyncMetrics metrics) {
        this.opener = opener;
        this.repos = repos;
        this.metrics = metrics;
    }

    @Override
    public SyncReport sync(SyncSpec spec, SyncListener listener) throws FsException {
        try (Side src = open(spec.source(), "source"); Side dst = open(spec.destination(), "destination")) {
            if (src.format.uuid().equals(dst.format.uuid())) {
                throw new FsException(Errno.EINVAL, "source and destination are the same volume ("
                        + src.format.name() + ")");
            }
            if (src.format.blockSize() != dst.format.blockSize() || src.format.chunkSize() != dst.format.chunkSize()) {
                throw new FsException(Errno.EINVAL, "block or chunk sizes differ: source " + src.format.blockSize()
                        + "/" + src.format.chunkSize() + ", destination " + dst.format.blockSize() + "/"
                        + dst.format.chunkSize() + " bytes (sync copies blocks as they are)");
            }
            StatusLog log = new StatusLog(dst.repo);
            long started = System.currentTimeMillis();
            if (!spec.dryRun()) {
                log.record(new SyncStatus(spec.source(), spec.name(), "running", started, 0, 0, 0, 0, 0, 0, 0, ""));
            }
            FileWarmer warmer = null;
            String notWarmed = null;
            try {
                if (!spec.warmGroup().isEmpty() && !spec.dryRun()) {
                    try {
                        warmer = new FileWarmer(groupMember(spec.destination(), spec.warmGroup()));
                    } catch (FsException e) {
                        if (e.errno() != Errno.EAGAIN) {
                            throw e;
                        }
                        // The files matter more than their warmth: they are synced, and the report says why
                        // they are not warm (a strategy retrying until a group member runs would sync nothing).
                        notWarmed = spec.path() + ": not warmed: " + e.getMessage();
                        listener.problem(spec.path(), "not warmed: " + e.getMessage());
                    }
                }
                SyncReport r = new SyncRun(spec, src, dst, listener, metrics, warmer).run();
                if (notWarmed != null) {
                    r = withProblem(r, notWarmed);
                }
                if (!spec.dryRun()) {
                    log.record(new SyncStatus(spec.source(), spec.name(),
                            r.failed() > 0 ? "failed" : r.conflicts() > 0 ? "conflicts" : "ok", started,
                            System.currentTimeMillis(), r.scanned(), r.copiedFiles(), r.copiedBytes(), r.skipped(),
                            r.conflicts(), r.failed(), r.problems().isEmpty() ? "" : r.problems().get(0)));
                }
                return r;
            } catch (FsException | RuntimeException e) {
                if (!spec.dryRun()) {
                    try {
                        log.record(new SyncStatus(spec.source(), spec.name(), "failed", started,
                                System.currentTimeMillis(), 0, 0, 0, 0, 0, 1, String.valueOf(e.getMessage())));
                    } catch (FsException ignored) {
                        // the destination is unreachable: the error the caller gets says so
                    }
                }
                throw e;
            } finally {
                if (warmer != null) {
                    warmer.close();
                }
            }
        }
    }

    private static SyncReport withProblem(SyncReport r, String problem) {
        List<String> problems = new ArrayList<>();
        problems.add(problem);
        problems.addAll(r.problems().subList(0, Math.min(r.problems().size(), SyncReport.MAX_PROBLEMS - 1)));
        return new SyncReport(r.scanned(), r.copiedFiles(), r.fileBytes(), r.copiedBlocks(), r.copiedBytes(),
                r.skipped(), r.deleted(), r.conflicts(), r.failed(), r.records(), r.warmedBytes(), r.elapsedMs(),
                List.copyOf(problems));
    }

    /** The volume opened as a member of its cache group that owns no blocks; EAGAIN if no member owns any. */
    private VfsVolume groupMember(String metaUrl, String group) throws FsException {
        VfsVolume v = opener.open(metaUrl, Map.of("cache-group", group, "no-sharing", "true"));
        if (v.cacheGroupOwners() < 1) {
            v.close();
            throw new FsException(Errno.EAGAIN, "cache group " + group + " of " + v.name()
                    + " has no member that owns blocks (is a sharing mount or gateway of it running?)");
        }
        return v;
    }

    @Override
    public List<SyncStatus> status(String metaUrl) throws FsException {
        try (RepositoryStore r = repo(metaUrl)) {
            return new StatusLog(r).list();
        }
    }

    @Override
    public void recordStatus(String metaUrl, SyncStatus status) throws FsException {
        try (RepositoryStore r = repo(metaUrl)) {
            new StatusLog(r).record(status);
        }
    }

    @Override
    public Optional<RepoChange> position(String metaUrl, String source, String name) throws FsException {
        try (RepositoryStore r = repo(metaUrl)) {
            return new StatusLog(r).position(source, name);
        }
    }

    @Override
    public void recordPosition(String metaUrl, String source, String name, RepoChange last) throws FsException {
        try (RepositoryStore r = repo(metaUrl)) {
            new StatusLog(r).recordPosition(source, name, last);
        }
    }

    @Override
    public Source source(String metaUrl) throws FsException {
        return new RepoSource(repo(metaUrl));
    }

    private RepositoryStore repo(String metaUrl) throws FsException {
        URI u = VolumeOpener.parse(metaUrl, "metadata");
        String scheme = u.getScheme().toLowerCase(Locale.ROOT);
        RepositoryStoreProvider p = repos.apply(scheme).orElseThrow(() -> new FsException(Errno.EOPNOTSUPP,
                "no repository store for scheme '" + scheme + "' (is its bundle installed and started?)"));
        return p.open(u);
    }

    /** One end of a sync: its engine, its store (marker checked), its repository store. */
    private Side open(String metaUrl, String what) throws FsException {
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            MetadataEngine meta = opener.engine(metaUrl);
            opened.add(meta);
            VolumeFormat f = meta.load()
                    .orElseThrow(() -> new FsException(Errno.ENOENT, what + " " + metaUrl + " is not formatted"));
            ChunkStore store = opener.store(f.storage());
            opened.add(store::close);
            VolumeOpener.verifyMarker(store, f);
            RepositoryStore repo = repo(metaUrl);
            opened.add(repo);
            return new Side(f, meta, store, repo, new ChunkLayout(f.name(), f.blockSize(), f.chunkSize()));
        } catch (FsException | RuntimeException e) {
            for (int i = opened.size() - 1; i >= 0; i--) {
                try {
                    opened.get(i).close();
                } catch (Exception ignored) {
                    // the first failure is the one to report
                }
            }
            throw e;
        }
    }

    /** The engine, store and repository of one volume, closed together. */
    record Side(VolumeFormat format, MetadataEngine meta, ChunkStore store, RepositoryStore repo, ChunkLayout layout)
            implements AutoCloseable {
        @Override
        public void close() {
            repo.close();
            store.close();
            try {
                meta.close();
            } catch (Exception ignored) {
                // closing frees connections; nothing is pending
            }
        }
    }
}
