package io.hangar.core.vfs;

import io.hangar.core.cache.DiskBlockCache;
import io.hangar.core.layout.ChunkLayout;
import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.SliceRef;
import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.store.StoreException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Deletes the blocks of slices no file references any more. The engine keeps the list, so a crash between
 * the last unlink and the deletion only delays it; deleting a block twice is harmless.
 *
 * <p>Readers of this and other clients may still hold a slice list that names a slice just released by a
 * compaction or truncate (cached for {@link BlockReader#LIST_TTL}). The background pass therefore deletes
 * only slices it has seen pending for {@link #GRACE_NANOS}: first seen by this client is never earlier than
 * released, so the grace holds across clients. Readers that still meet a deleted block re-read the list
 * ({@link BlockReader}).
 */
final class SliceReaper {
    /** How long a released slice stays in the store: well past the lifetime of any cached slice list. */
    static final long GRACE_NANOS = BlockReader.LIST_TTL.toNanos() * 10;
    private static final int MAX_TRACKED = 1_000_000;

    private final MetadataEngine meta;
    private final StoreGate gate;
    private final ChunkLayout layout;
    // Slice id -> when this client first saw it pending (System.nanoTime()).
    private final Map<Long, Long> firstSeen = new HashMap<>();

    private final VfsMetrics metrics;

    /** Cached copies of reaped blocks are dropped too (they would never be read again); null: no disk cache. */
    private final DiskBlockCache disk;

    SliceReaper(MetadataEngine meta, StoreGate gate, ChunkLayout layout, VfsMetrics metrics, DiskBlockCache disk) {
        this.disk = disk;
        this.metrics = metrics;
        this.meta = meta;
        this.gate = gate;
        this.layout = layout;
    }

    /**
     * Deletes one batch of slices pending at least {@code graceNanos} (0: all); returns how many were freed.
     * Skips quietly while the store is away.
     */
    synchronized int reapOnce(int batch, long graceNanos) throws FsException {
        ChunkStore store = gate.current();
        if (store == null) {
            return 0;
        }
        List<SliceRef> refs = meta.pendingSliceDeletes(batch);
        long now = System.nanoTime();
        if (refs.size() < batch) {
            // The whole list: forget slices other clients deleted meanwhile.
            Set<Long> pending = new HashSet<>();
            for (SliceRef r : refs) {
                pending.add(r.id());
            }
            firstSeen.keySet().retainAll(pending);
        } else if (firstSeen.size() > MAX_TRACKED) {
            firstSeen.clear(); // restarts the grace of what is left: deletes later, never earlier
        }
        List<SliceRef> due = new ArrayList<>();
        for (SliceRef r : refs) {
            long seen = firstSeen.computeIfAbsent(r.id(), k -> now);
            if (now - seen >= graceNanos) {
                due.add(r);
            }
        }
        if (due.isEmpty()) {
            return 0;
        }
        try {
            for (SliceRef r : due) {
                for (int b = 0; b < layout.blockCount(r.size()); b++) {
                    String key = layout.blockKey(r.id(), b, layout.blockLength(r.size(), b));
                    store.delete(key);
                    if (disk != null) {
                        disk.drop(key);
                    }
                    metrics.blocksReaped.increment();
                }
            }
        } catch (StoreException e) {
            return 0;
        }
        meta.confirmSliceDeletes(due);
        for (SliceRef r : due) {
            firstSeen.remove(r.id());
        }
        return due.size();
    }
}
