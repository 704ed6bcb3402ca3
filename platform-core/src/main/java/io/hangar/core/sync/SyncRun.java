package io.hangar.core.sync;

import io.hangar.core.sync.VolumeSyncer.Side;
import io.hangar.core.vfs.VfsVolume;
import io.hangar.fs.Attr;
import io.hangar.fs.DirEntry;
import io.hangar.fs.Entry;
import io.hangar.fs.Errno;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.fs.SetAttr;
import io.hangar.fs.XattrFlags;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.Slice;
import io.hangar.spi.meta.StoredSlice;
import io.hangar.spi.repo.RepoWrite;
import io.hangar.spi.store.StoreException;
import io.hangar.sync.SyncListener;
import io.hangar.sync.SyncReport;
import io.hangar.sync.SyncSpec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One sync of a tree from a source volume to a destination volume (docs/sync.md).
 *
 * <ul>
 * <li>The walk visits the source tree depth first, one directory page at a time, so memory follows the depth
 * of the tree, not its size.</li>
 * <li>A file's blocks are copied store to store by key, each slice once: a source slice is mapped to a
 * destination slice id in the destination's repository store ({@code sync/<source uuid>/slice/<id>}), written
 * before its blocks are copied. A file whose slices are mapped to live destination slices (a clone, a
 * snapshot, a file synced before) copies nothing; a mapping whose slice never got a reference (a sync that died
 * between copying and applying) has its blocks checked and only the missing ones copied.</li>
 * <li>A file is built under {@code /.sync} at the destination with the mapped slice records, its attributes and
 * xattrs, then renamed over its path: it appears whole or not at all.</li>
 * <li>Every applied node carries {@code hangar.sync}: the source's uuid, inode and ctime (its content identity)
 * and the destination's ctime after the apply. A file whose source identity and destination ctime are both
 * unchanged is skipped; one changed at the destination is a conflict, reported and left alone.</li>
 * </ul>
 * Copies run on {@code threads} threads with at most {@code threads} blocks in flight (memory: threads × block
 * size), under the bandwidth limit.
 */
final class SyncRun {
    static final String RECORD_XATTR = "hangar.sync";
    static final String FROZEN_XATTR = VfsVolume.FROZEN_XATTR;
    /** The staging directory at the destination's root where files are built before they are renamed in. */
    static final String STAGING = ".sync";
    /** The repository's trash (docs/repository.md): a site's own, purged on its own schedule, never synced. */
    static final String TRASH = ".trash";
    private static final int PAGE = 1000;

    private final SyncSpec spec;
    private final Side src;
    private final Side dst;
    private final SyncListener listener;
    private final SyncMetrics.Pair metrics;
    private final RateLimit limit;
    private final String tmpPrefix;
    private final AtomicInteger tmpCounter = new AtomicInteger();

    private final AtomicLong copiedBlocks = new AtomicLong();
    private final AtomicLong copiedBytes = new AtomicLong();
    private long scanned;
    private long copiedFiles;
    private long fileBytes;
    private long skipped;
    private long deleted;
    private long conflicts;
    private long failed;
    private final List<String> problems = new ArrayList<>();
    private long staging;

    private final FileWarmer warmer;

    SyncRun(SyncSpec spec, Side src, Side dst, SyncListener listener, SyncMetrics metrics,
            FileWarmer warmer) {
        this.warmer = warmer;
        this.spec = spec;
        this.src = src;
        this.dst = dst;
        this.listener = listener;
        this.metrics = metrics.of(src.format().name(), dst.format().name());
        this.limit = new RateLimit(spec.bytesPerSecond());
        this.tmpPrefix = src.format().uuid() + "-";
    }

    SyncReport run() throws FsException {
        long t0 = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(spec.threads(), r -> {
            Thread t = new Thread(r, "hangar-sync-copy");
            t.setDaemon(true);
            return t;
        });
        long records = 0;
        try {
            Copier copier = new Copier(pool, new Semaphore(spec.threads()));
            if (!spec.dryRun()) {
                cleanStaging();
            }
            List<String> names = names(spec.path());
            long srcNode = MetadataEngine.ROOT;
            long dstNode = MetadataEngine.ROOT;
            String path = "";
            for (int i = 0; i < names.size() - 1; i++) {
                // Directories above the synced tree: made at the destination if missing, with the source's mode.
                Entry e = src.meta().lookup(srcNode, names.get(i));
                path += "/" + names.get(i);
                if (e.attr().type() != FileType.DIRECTORY) {
                    throw new FsException(Errno.ENOTDIR, path + " is no directory at the source");
                }
                srcNode = e.attr().inode();
                dstNode = dstNode == 0 ? 0 : ensureDirectory(dstNode, names.get(i), e.attr(), path);
            }
            if (names.isEmpty()) {
                syncDirectoryContents(src.meta().getattr(MetadataEngine.ROOT), MetadataEngine.ROOT, "", copier);
            } else {
                String last = names.get(names.size() - 1);
                Entry top = src.meta().lookup(srcNode, last);
                syncNode(top.attr(), last, dstNode, path + "/" + last, copier);
            }
            if (!spec.dryRun()) {
                records = new RecordSync(src, dst, spec.source()).run(names);
            }
        } finally {
            pool.shutdownNow();
        }
        long warmed = 0;
        if (warmer != null) {
            try {
                warmed = warmer.finish();
            } catch (FsException e) {
                problem(spec.path(), "not warmed into cache group " + spec.warmGroup() + ": " + e.getMessage());
            }
        }
        return new SyncReport(scanned, copiedFiles, fileBytes, copiedBlocks.get(), copiedBytes.get(), skipped, deleted,
                conflicts, failed, records, warmed, (System.nanoTime() - t0) / 1_000_000, List.copyOf(problems));
    }

    static List<String> names(String path) {
        return path.equals("/") ? List.of() : Arrays.asList(path.substring(1).split("/"));
    }

    // ---- the walk ----

    /** Syncs one source node to name {@code name} in destination directory {@code dstParent} (0: absent, dry run). */
    private void syncNode(Attr s, String name, long dstParent, String path, Copier copier) throws FsException {
        scanned++;
        metrics.scanned.increment();
        listener.scanned(path, s.type() == FileType.FILE ? s.length() : 0);
        Attr d = dstParent == 0 ? null : lookup(dst.meta(), dstParent, name);
        if (s.type() == FileType.DIRECTORY) {
            long dir;
            if (d == null) {
                dir = spec.dryRun() ? 0 : dst.meta().mknod(dstParent, name, FileType.DIRECTORY, s.mode() & 07777,
                        s.uid(), s.gid(), 0, null).attr().inode();
            } else if (d.type() != FileType.DIRECTORY) {
                conflict(path, "a " + kind(d) + " at the destination, a directory at the source");
                return;
            } else {
                dir = d.inode();
            }
            syncDirectoryContents(s, dir, path, copier);
            if (dir != 0) {
                finishDirectory(s, dir);
            }
            return;
        }
        if (d != null) {
            String why = unchangedOrConflict(s, d);
            if (why == null) {
                skipped++;
                metrics.skipped.increment();
                warm(d);
                listener.done(path, s.length(), false);
                return;
            }
            if (!why.isEmpty()) {
                conflict(path, why);
                return;
            }
        }
        if (spec.dryRun()) {
            copiedFiles++;
            fileBytes += s.type() == FileType.FILE ? s.length() : 0;
            listener.done(path, s.length(), true);
            return;
        }
        try {
            warm(copyLeaf(s, name, dstParent, copier));
            copiedFiles++;
            fileBytes += s.type() == FileType.FILE ? s.length() : 0;
            metrics.copiedFiles.increment();
            listener.done(path, s.length(), true);
        } catch (FsException e) {
            if (e.errno() == Errno.ENOENT && goneAtSource(s.inode())) {
                return; // deleted at the source while we copied it: the next sync with --delete removes it too
            }
            failed++;
            metrics.failed.increment();
            problem(path, e.errno() + ": " + e.getMessage());
        }
    }

    private static boolean siteOwn(String rootName) {
        return rootName.equals(STAGING) || rootName.equals(TRASH);
    }

    private static String kind(Attr a) {
        return a.type().name().toLowerCase(java.util.Locale.ROOT);
    }

    private boolean goneAtSource(long inode) {
        try {
            src.meta().getattr(inode);
            return false;
        } catch (FsException e) {
            return e.errno() == Errno.ENOENT;
        }
    }

    private void syncDirectoryContents(Attr s, long dstDir, String path, Copier copier) throws FsException {
        String after = null;
        for (List<DirEntry> page; !(page = src.meta().readdir(s.inode(), after, PAGE, true)).isEmpty();
                after = page.get(page.size() - 1).name()) {
            for (DirEntry e : page) {
                if (path.isEmpty() && siteOwn(e.name())) {
                    continue; // the source's staging directory (it may be a destination too) and its trash
                }
                Attr a = e.attr() != null ? e.attr() : src.meta().getattr(e.inode());
                syncNode(a, e.name(), dstDir, path + "/" + e.name(), copier);
            }
        }
        if (spec.delete() && dstDir != 0) {
            deleteMissing(s.inode(), dstDir, path);
        }
    }

    /**
     * {@code null}: the destination node is what the last sync put there and the source is unchanged. Empty:
     * copy it (the source changed, the destination did not). Otherwise the conflict.
     */
    private String unchangedOrConflict(Attr s, Attr d) throws FsException {
        if (d.type() != s.type()) {
            return "a " + kind(d) + " at the destination, a " + kind(s)
                    + " at the source";
        }
        SyncMark m = SyncMark.read(dst.meta(), d.inode());
        if (m == null) {
            return "exists at the destination and was not written by sync";
        }
        if (!m.source().equals(src.format().uuid())) {
            return "written at the destination by a sync from another volume (" + m.source() + ")";
        }
        boolean srcSame = m.inode() == s.inode() && m.ctimeNs() == s.ctimeNs();
        boolean dstSame = m.dstCtimeNs() == d.ctimeNs();
        if (srcSame && dstSame) {
            return null;
        }
        if (!dstSame) {
            return "changed at the destination since the last sync" + (srcSame ? "" : " and at the source");
        }
        if (frozen(dst.meta(), d.inode())) {
            return "frozen at the destination (a released version), changed at the source";
        }
        return "";
    }

    private void finishDirectory(Attr s, long dir) throws FsException {
        if (spec.dryRun()) {
            return;
        }
        Attr d = dst.meta().getattr(dir);
        if (d.mode() != s.mode() || d.uid() != s.uid() || d.gid() != s.gid()) {
            dst.meta().setattr(dir, new SetAttr(s.mode() & 07777, s.uid(), s.gid(), null, null, null, null));
        }
        copyXattrs(s.inode(), dir, true);
        SyncMark old = SyncMark.read(dst.meta(), dir);
        if (old == null || old.inode() != s.inode()) {
            new SyncMark(src.format().uuid(), s.inode(), s.ctimeNs(), dst.meta().getattr(dir).ctimeNs())
                    .write(dst.meta(), dir);
        }
        if (frozen(src.meta(), s.inode()) && !frozen(dst.meta(), dir)) {
            freeze(dir);
        }
        // Last: adding the children moved the directory's mtime.
        Attr now = dst.meta().getattr(dir);
        if (now.mtimeNs() != s.mtimeNs()) {
            dst.meta().setattr(dir, SetAttr.times(s.atimeNs(), s.mtimeNs()));
        }
    }

    private void warm(Attr applied) {
        if (warmer != null && applied.type() == FileType.FILE) {
            warmer.file(applied.inode());
        }
    }

    /** Builds the node under the staging directory and renames it over {@code name}; returns its attributes. */
    private Attr copyLeaf(Attr s, String name, long dstParent, Copier copier) throws FsException {
        long stage = staging();
        String tmp = tmpPrefix + s.inode() + "-" + tmpCounter.incrementAndGet();
        Entry t;
        switch (s.type()) {
            case FILE -> {
                List<Map.Entry<Integer, List<Slice>>> chunks = copyBlocks(s, copier);
                t = dst.meta().mknod(stage, tmp, FileType.FILE, s.mode() & 07777, s.uid(), s.gid(), 0, null);
                try {
                    dst.meta().truncate(t.attr().inode(), s.length());
                    for (Map.Entry<Integer, List<Slice>> c : chunks) {
                        if (!dst.meta().compactChunk(t.attr().inode(), c.getKey(), List.of(), c.getValue())) {
                            throw new FsException(Errno.EIO, "chunk " + c.getKey() + " of a new file was changed");
                        }
                    }
                } catch (FsException | RuntimeException e) {
                    unlinkQuietly(stage, tmp);
                    throw e;
                }
            }
            case SYMLINK -> t = dst.meta().mknod(stage, tmp, FileType.SYMLINK, 0777, s.uid(), s.gid(), 0,
                    src.meta().readlink(s.inode()));
            default -> t = dst.meta().mknod(stage, tmp, s.type(), s.mode() & 07777, s.uid(), s.gid(), s.rdev(), null);
        }
        long ino = t.attr().inode();
        try {
            if (s.type() != FileType.SYMLINK) {
                dst.meta().setattr(ino, SetAttr.times(s.atimeNs(), s.mtimeNs()));
            }
            copyXattrs(s.inode(), ino, false);
            dst.meta().rename(stage, tmp, dstParent, name, 0);
        } catch (FsException | RuntimeException e) {
            unlinkQuietly(stage, tmp);
            throw e;
        }
        Attr applied = dst.meta().getattr(ino);
        new SyncMark(src.format().uuid(), s.inode(), s.ctimeNs(), applied.ctimeNs()).write(dst.meta(), ino);
        if (frozen(src.meta(), s.inode())) {
            freeze(ino);
        }
        return applied;
    }

    /**
     * Reads the file's slice records chunk by chunk, maps each slice to a destination id (copying its blocks
     * unless they are there) and waits for the copies. Returns the mapped records of the chunks that hold any.
     */
    private List<Map.Entry<Integer, List<Slice>>> copyBlocks(Attr s, Copier copier) throws FsException {
        int cs = src.format().chunkSize();
        long chunks = (s.length() + cs - 1) / cs;
        Map<Long, Long> mapped = new HashMap<>(); // this file's slices: each looked up and copied once
        List<Map.Entry<Integer, List<Slice>>> out = new ArrayList<>();
        List<Future<?>> copies = new ArrayList<>();
        try {
            for (int c = 0; c < chunks; c++) {
                List<Slice> recs = src.meta().readChunk(s.inode(), c);
                if (recs.isEmpty()) {
                    continue;
                }
                List<Slice> m = new ArrayList<>(recs.size());
                for (Slice r : recs) {
                    if (r.isHole()) {
                        m.add(r);
                        continue;
                    }
                    Long id = mapped.get(r.id());
                    if (id == null) {
                        id = mapSlice(r, copier, copies);
                        mapped.put(r.id(), id);
                    }
                    m.add(new Slice(id, r.size(), r.off(), r.len(), r.pos()));
                }
                out.add(Map.entry(c, m));
            }
        } finally {
            copier.await(copies); // also on failure: no copy outlives the file it was for
        }
        return out;
    }

    /** The destination id of source slice {@code r}, its blocks copied (or being copied) there. */
    private long mapSlice(Slice r, Copier copier, List<Future<?>> copies) throws FsException {
        String key = "sync/" + src.format().uuid() + "/slice/" + String.format("%019d", r.id());
        Long known = dst.repo().get(key).map(x -> Long.parseLong(new String(x.value(), StandardCharsets.UTF_8)))
                .orElse(null);
        if (known != null) {
            List<StoredSlice> at = dst.meta().scanSlices(known - 1, 1);
            boolean exists = !at.isEmpty() && at.get(0).id() == known;
            if (exists && !at.get(0).pendingDelete()) {
                return known; // live at the destination: a clone, a snapshot, a file synced before
            }
            if (!exists) {
                // Mapped but never referenced: a sync died between copying and applying. Copy what is missing.
                copier.copySlice(r, known, true, copies);
                return known;
            }
            // Its last reference went: its blocks may be deleted any moment. Copy it again under a new id.
        }
        long id = dst.meta().newSliceIds(1);
        if (!spec.dryRun()) {
            // The mapping lands before the blocks: a sync that dies now leaves blocks a later one finds.
            dst.repo().commit(List.of(), List.of(RepoWrite.put(key, Long.toString(id).getBytes(StandardCharsets.UTF_8))),
                    List.of());
        }
        copier.copySlice(r, id, false, copies);
        return id;
    }

    // ---- deletions ----

    private void deleteMissing(long srcDir, long dstDir, String path) throws FsException {
        String after = null;
        for (List<DirEntry> page; !(page = dst.meta().readdir(dstDir, after, PAGE, true)).isEmpty();
                after = page.get(page.size() - 1).name()) {
            for (DirEntry e : page) {
                if (path.isEmpty() && siteOwn(e.name()) || lookup(src.meta(), srcDir, e.name()) != null) {
                    continue;
                }
                deleteSynced(dstDir, e.name(), path + "/" + e.name());
            }
        }
    }

    /** Removes what sync put at {@code name} and nobody changed since; anything else is reported and kept. */
    private boolean deleteSynced(long dir, String name, String path) throws FsException {
        Attr d = lookup(dst.meta(), dir, name);
        if (d == null) {
            return true;
        }
        SyncMark m = SyncMark.read(dst.meta(), d.inode());
        if (m == null || !m.source().equals(src.format().uuid())) {
            return false; // not ours: kept without a word (it was never at the source)
        }
        if (frozen(dst.meta(), d.inode())) {
            conflict(path, "deleted at the source, frozen at the destination");
            return false;
        }
        if (d.type() == FileType.DIRECTORY) {
            boolean all = true;
            String after = null;
            for (List<DirEntry> page; !(page = dst.meta().readdir(d.inode(), after, PAGE, false)).isEmpty();
                    after = page.get(page.size() - 1).name()) {
                for (DirEntry e : page) {
                    all &= deleteSynced(d.inode(), e.name(), path + "/" + e.name());
                }
            }
            if (!all) {
                return false;
            }
            if (!spec.dryRun()) {
                dst.meta().rmdir(dir, name);
            }
        } else {
            if (m.dstCtimeNs() != d.ctimeNs()) {
                conflict(path, "deleted at the source, changed at the destination");
                return false;
            }
            if (!spec.dryRun()) {
                dst.meta().unlink(dir, name);
            }
        }
        deleted++;
        return true;
    }

    // ---- helpers ----

    private long ensureDirectory(long parent, String name, Attr s, String path) throws FsException {
        Attr d = lookup(dst.meta(), parent, name);
        if (d == null) {
            if (spec.dryRun()) {
                return 0;
            }
            return dst.meta().mknod(parent, name, FileType.DIRECTORY, s.mode() & 07777, s.uid(), s.gid(), 0, null)
                    .attr().inode();
        }
        if (d.type() != FileType.DIRECTORY) {
            throw new FsException(Errno.ENOTDIR, path + " is no directory at the destination");
        }
        return d.inode();
    }

    private long staging() throws FsException {
        if (staging == 0) {
            Attr d = lookup(dst.meta(), MetadataEngine.ROOT, STAGING);
            staging = d != null ? d.inode()
                    : dst.meta().mknod(MetadataEngine.ROOT, STAGING, FileType.DIRECTORY, 0700, 0, 0, 0, null).attr()
                            .inode();
        }
        return staging;
    }

    /** Removes what a sync from this source that died left in the staging directory. */
    private void cleanStaging() throws FsException {
        Attr d = lookup(dst.meta(), MetadataEngine.ROOT, STAGING);
        if (d == null) {
            return;
        }
        staging = d.inode();
        List<String> stale = new ArrayList<>();
        String after = null;
        for (List<DirEntry> page; !(page = dst.meta().readdir(staging, after, PAGE, false)).isEmpty();
                after = page.get(page.size() - 1).name()) {
            for (DirEntry e : page) {
                if (e.name().startsWith(tmpPrefix)) {
                    stale.add(e.name());
                }
            }
            for (String n : stale) {
                unlinkQuietly(staging, n);
            }
            stale.clear();
        }
    }

    private void unlinkQuietly(long dir, String name) {
        try {
            dst.meta().unlink(dir, name);
        } catch (FsException ignored) {
            // left for the next run's clean-up of the staging directory
        }
    }

    private void copyXattrs(long from, long to, boolean onlyChanged) throws FsException {
        for (String n : src.meta().listxattr(from)) {
            if (n.startsWith("hangar.")) {
                continue; // the platform's own marks are not the file's: freeze and sync marks are made here
            }
            byte[] v = src.meta().getxattr(from, n);
            if (onlyChanged) {
                try {
                    if (Arrays.equals(v, dst.meta().getxattr(to, n))) {
                        continue;
                    }
                } catch (FsException e) {
                    if (e.errno() != Errno.ENODATA) {
                        throw e;
                    }
                }
            }
            dst.meta().setxattr(to, n, v, 0);
        }
    }

    private void freeze(long inode) throws FsException {
        dst.meta().setxattr(inode, FROZEN_XATTR, Long.toString(inode).getBytes(StandardCharsets.UTF_8),
                XattrFlags.KEEP_CTIME);
    }

    static boolean frozen(MetadataEngine m, long inode) throws FsException {
        try {
            return new String(m.getxattr(inode, FROZEN_XATTR), StandardCharsets.UTF_8).equals(Long.toString(inode));
        } catch (FsException e) {
            if (e.errno() == Errno.ENODATA) {
                return false;
            }
            throw e;
        }
    }

    static Attr lookup(MetadataEngine m, long dir, String name) throws FsException {
        try {
            return m.lookup(dir, name).attr();
        } catch (FsException e) {
            if (e.errno() == Errno.ENOENT) {
                return null;
            }
            throw e;
        }
    }

    private void conflict(String path, String why) {
        conflicts++;
        metrics.conflicts.increment();
        problem(path, "conflict: " + why);
    }

    private void problem(String path, String why) {
        if (problems.size() < SyncReport.MAX_PROBLEMS) {
            problems.add(path + ": " + why);
        }
        listener.problem(path, why);
    }

    /** Copies blocks store to store on the run's pool, at most as many in flight as it has threads. */
    private final class Copier {
        private final ExecutorService pool;
        private final Semaphore inFlight;

        Copier(ExecutorService pool, Semaphore inFlight) {
            this.pool = pool;
            this.inFlight = inFlight;
        }

        void copySlice(Slice r, long dstId, boolean checkFirst, List<Future<?>> into) throws FsException {
            if (spec.dryRun()) {
                return;
            }
            int blocks = src.layout().blockCount(r.size());
            for (int b = 0; b < blocks; b++) {
                int len = src.layout().blockLength(r.size(), b);
                String from = src.layout().blockKey(r.id(), b, len);
                String to = dst.layout().blockKey(dstId, b, len);
                try {
                    inFlight.acquire();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new FsException(Errno.EIO, "interrupted");
                }
                try {
                    into.add(pool.submit(() -> {
                        try {
                            copyBlock(from, to, len, checkFirst);
                        } finally {
                            inFlight.release();
                        }
                        return null;
                    }));
                } catch (RuntimeException e) {
                    inFlight.release();
                    throw e;
                }
            }
        }

        private void copyBlock(String from, String to, int len, boolean checkFirst) throws Exception {
            if (checkFirst) {
                try {
                    if (dst.store().head(to).size() == len) {
                        return; // copied by the run that died
                    }
                } catch (StoreException e) {
                    if (e.kind() != StoreException.Kind.NOT_FOUND) {
                        throw e;
                    }
                }
            }
            limit.acquire(len);
            byte[] data = src.store().get(from, 0, len);
            if (data.length != len) {
                throw new FsException(Errno.EIO, "block " + from + " is " + data.length + " bytes, not " + len);
            }
            dst.store().put(to, data, 0, len);
            copiedBlocks.incrementAndGet();
            copiedBytes.addAndGet(len);
            metrics.copiedBytes.increment(len);
            listener.copied(len);
        }

        /** Waits for every copy; the first failure is thrown as the file's (EIO), after all have ended. */
        void await(List<Future<?>> copies) throws FsException {
            Throwable first = null;
            for (Future<?> f : copies) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    first = first == null ? e.getCause() : first;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    first = first == null ? e : first;
                }
            }
            copies.clear();
            if (first instanceof FsException fe) {
                throw fe;
            }
            if (first != null) {
                throw new FsException(Errno.EIO, "block copy failed: " + first.getMessage(), first);
            }
        }
    }
}
