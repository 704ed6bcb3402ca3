package io.hangar.core.fsck;

import io.hangar.core.layout.ChunkLayout;
import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.fsck.FsckReport;
import io.hangar.fsck.GcReport;
import io.hangar.fsck.VolumeCheck;
import io.hangar.spi.meta.MetaProblem;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.SliceRef;
import io.hangar.spi.meta.StoredSlice;
import io.hangar.spi.meta.VolumeFormat;
import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.store.ListPage;
import io.hangar.spi.store.ObjectInfo;
import io.hangar.spi.store.StoreException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * fsck and gc over a metadata engine and a chunk store. Blocks live under
 * {@code <volume>/chunks/<id/10^6>/<id/10^3>/}: one store directory holds the blocks of at most 1000 slice
 * ids, so the check walks the slices in id order, lists one directory per run of 1000 ids and compares
 * the two (pass 1), then walks the whole store listing for directories with no slice at all (pass 2).
 * It holds one page of slices and one directory listing at a time.
 */
public final class VolumeChecker implements VolumeCheck {
    private static final int PAGE = 1000;
    /**
     * Objects per store listing page: one directory holds the blocks of at most 1000 slices of at most 16
     * blocks (a 64 MiB chunk of 4 MiB blocks), so a directory is usually one page (a few MiB of keys).
     */
    private static final int LIST_PAGE = 16_384;

    private final VolumeFormat format;
    private final MetadataEngine meta;
    private final Supplier<ChunkStore> store;
    private final ChunkLayout layout;
    private final Clock clock;
    private final Runnable onClose;

    public VolumeChecker(VolumeFormat format, MetadataEngine meta, Supplier<ChunkStore> store, Clock clock,
            Runnable onClose) {
        this.format = format;
        this.meta = meta;
        this.store = store;
        this.layout = new ChunkLayout(format.name(), format.blockSize(), format.chunkSize());
        this.clock = clock;
        this.onClose = onClose;
    }

    @Override
    public void close() {
        onClose.run();
    }

    // ---- fsck ----

    @Override
    public FsckReport fsck(boolean repair, Consumer<String> report) throws FsException {
        long[] problems = new long[2];
        meta.check(repair, p -> {
            problems[0]++;
            if (p.repaired()) {
                problems[1]++;
            }
            report.accept(line(p));
        });
        Audit a = new Audit(report, VolumeCheck.DEFAULT_GRACE, Mode.FSCK);
        a.run();
        return new FsckReport(a.slices, a.blocks, a.pending, problems[0], problems[1], a.missing, a.bad, a.leaked,
                a.leakedBytes, a.young);
    }

    private static String line(MetaProblem p) {
        return (p.repaired() ? "repaired " : "") + p.kind().name().toLowerCase().replace('_', ' ') + ": " + p.what();
    }

    // ---- gc ----

    @Override
    public GcReport gc(boolean dryRun, Duration olderThan, Consumer<String> report) throws FsException {
        if (olderThan.isNegative()) {
            throw new FsException(Errno.EINVAL, "negative grace period " + olderThan);
        }
        long slices = 0;
        long blocks = 0;
        if (dryRun) {
            long after = 0;
            for (List<StoredSlice> page; !(page = meta.scanSlices(after, PAGE)).isEmpty();
                    after = page.get(page.size() - 1).id()) {
                for (StoredSlice s : page) {
                    if (s.pendingDelete()) {
                        slices++;
                        blocks += layout.blockCount(s.size());
                    }
                }
            }
        } else {
            for (List<SliceRef> page; !(page = meta.pendingSliceDeletes(PAGE)).isEmpty();) {
                ChunkStore s = store();
                for (SliceRef r : page) {
                    for (int b = 0; b < layout.blockCount(r.size()); b++) {
                        delete(s, layout.blockKey(r.id(), b, layout.blockLength(r.size(), b)));
                        blocks++;
                    }
                }
                meta.confirmSliceDeletes(page);
                slices += page.size();
            }
        }
        report.accept((dryRun ? "would delete " : "deleted ") + blocks + " blocks of " + slices
                + " slices no file references");
        Audit a = new Audit(report, olderThan, dryRun ? Mode.GC_DRY_RUN : Mode.GC);
        a.run();
        return new GcReport(dryRun, slices, blocks, a.removed, a.removedBytes, a.young);
    }

    // ---- the walk over slices and blocks ----

    /** What a walk does with leaked blocks: name them (fsck), or remove those older than the grace (gc). */
    private enum Mode {
        FSCK, GC_DRY_RUN, GC
    }

    /** One walk over every slice and every block of the volume. */
    private final class Audit {
        final Consumer<String> report;
        final long cutoffMs;
        final Mode mode;
        long slices;
        long pending;
        long blocks;
        long missing;
        long bad;
        long leaked;
        long leakedBytes;
        long young;
        long removed;
        long removedBytes;

        Audit(Consumer<String> report, Duration grace, Mode mode) {
            this.report = report;
            this.cutoffMs = clock.millis() - grace.toMillis();
            this.mode = mode;
        }

        void run() throws FsException {
            // Pass 1: slices in id order, one store directory per group of 1000 ids.
            List<StoredSlice> group = new ArrayList<>();
            long after = 0;
            while (true) {
                List<StoredSlice> page = meta.scanSlices(after, PAGE);
                for (StoredSlice s : page) {
                    if (!group.isEmpty() && bucket(group.get(0).id()) != bucket(s.id())) {
                        directory(group);
                        group.clear();
                    }
                    group.add(s);
                }
                if (page.isEmpty()) {
                    break;
                }
                after = page.get(page.size() - 1).id();
            }
            if (!group.isEmpty()) {
                directory(group);
            }
            // Pass 2: store directories that hold blocks although no slice id falls in them.
            String root = format.name() + "/chunks/";
            String dir = null;
            boolean hasSlices = false;
            String cursor = null;
            do {
                ListPage page = list(root, cursor);
                for (ObjectInfo o : page.objects()) {
                    String d = o.key().substring(0, o.key().lastIndexOf('/') + 1);
                    if (!d.equals(dir)) {
                        dir = d;
                        hasSlices = directoryHasSlices(d.substring(root.length()));
                    }
                    if (!hasSlices) {
                        leaked(o);
                    }
                }
                cursor = page.next();
            } while (cursor != null);
        }

        /** Whether any stored slice's id falls in a directory {@code a/b/}; unparseable names have none. */
        boolean directoryHasSlices(String rel) throws FsException {
            String[] parts = rel.split("/");
            if (parts.length != 2) {
                return false;
            }
            long b;
            try {
                b = Long.parseLong(parts[1]);
                if (Long.parseLong(parts[0]) != b / 1000 || b < 0) {
                    return false;
                }
            } catch (NumberFormatException e) {
                return false;
            }
            List<StoredSlice> first = meta.scanSlices(b * 1000 - 1, 1);
            return !first.isEmpty() && bucket(first.get(0).id()) == b;
        }

        /** Compares the slices of one directory with its listing. */
        void directory(List<StoredSlice> group) throws FsException {
            long b = bucket(group.get(0).id());
            String prefix = format.name() + "/chunks/" + b / 1000 + "/" + b + "/";
            Map<String, ObjectInfo> listed = new HashMap<>();
            String cursor = null;
            do {
                ListPage page = list(prefix, cursor);
                for (ObjectInfo o : page.objects()) {
                    listed.put(o.key(), o);
                }
                cursor = page.next();
            } while (cursor != null);
            for (StoredSlice s : group) {
                slices++;
                if (s.pendingDelete()) {
                    pending++;
                }
                for (int i = 0; i < layout.blockCount(s.size()); i++) {
                    int len = layout.blockLength(s.size(), i);
                    String key = layout.blockKey(s.id(), i, len);
                    ObjectInfo o = listed.remove(key);
                    if (s.pendingDelete()) {
                        continue; // being deleted: present or not, nothing reads it
                    }
                    blocks++;
                    if (o == null) {
                        if (stillReferenced(s)) {
                            missing++;
                            report.accept("missing block: " + key + " of slice " + s.id() + " (" + s.refs()
                                    + " references)");
                        }
                    } else if (o.size() != len) {
                        bad++;
                        report.accept("bad block: " + key + " holds " + o.size() + " bytes, slice " + s.id() + " needs "
                                + len);
                    }
                }
            }
            for (ObjectInfo o : listed.values()) {
                leaked(o);
            }
        }

        /** Re-reads a slice before calling its block missing: it may have been deleted since the page was read. */
        boolean stillReferenced(StoredSlice s) throws FsException {
            List<StoredSlice> now = meta.scanSlices(s.id() - 1, 1);
            return !now.isEmpty() && now.get(0).id() == s.id() && !now.get(0).pendingDelete();
        }

        void leaked(ObjectInfo o) throws FsException {
            leaked++;
            leakedBytes += o.size();
            boolean old = o.modifiedMs() < cutoffMs;
            if (!old) {
                young++;
            }
            switch (mode) {
                case FSCK -> report.accept("leaked block: " + o.key() + " (" + o.size() + " bytes, " + age(o) + " old)");
                case GC_DRY_RUN, GC -> {
                    if (old) {
                        if (mode == Mode.GC) {
                            delete(store(), o.key());
                        }
                        removed++;
                        removedBytes += o.size();
                        report.accept((mode == Mode.GC ? "removed" : "would remove") + " leaked block: " + o.key()
                                + " (" + o.size() + " bytes, " + age(o) + " old)");
                    }
                }
            }
        }

        String age(ObjectInfo o) {
            Duration d = Duration.ofMillis(Math.max(0, clock.millis() - o.modifiedMs()));
            return d.toHours() > 0 ? d.toHours() + "h" : d.toMinutes() > 0 ? d.toMinutes() + "m" : d.toSeconds() + "s";
        }
    }

    private static long bucket(long sliceId) {
        return sliceId / 1000;
    }

    private ChunkStore store() throws FsException {
        ChunkStore s = store.get();
        if (s == null) {
            throw new FsException(Errno.EIO, "the chunk store of volume " + format.name() + " is not available");
        }
        return s;
    }

    private ListPage list(String prefix, String cursor) throws FsException {
        try {
            return store().list(prefix, cursor, LIST_PAGE);
        } catch (StoreException e) {
            throw new FsException(Errno.EIO, "cannot list chunk store " + store().describe() + ": " + e.getMessage(), e);
        }
    }

    private void delete(ChunkStore s, String key) throws FsException {
        try {
            s.delete(key);
        } catch (StoreException e) {
            throw new FsException(Errno.EIO, "cannot delete " + key + " from " + s.describe() + ": " + e.getMessage(), e);
        }
    }
}
