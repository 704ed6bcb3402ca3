package io.hangar.core.vfs;

import io.hangar.core.layout.ChunkLayout;
import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.SliceRef;
import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.store.StoreException;
import java.util.List;

/**
 * Deletes the blocks of slices no file references any more. The engine keeps the list, so a crash between
 * the last unlink and the deletion only delays it; deleting a block twice is harmless.
 */
final class SliceReaper {
    private final MetadataEngine meta;
    private final StoreGate gate;
    private final ChunkLayout layout;

    SliceReaper(MetadataEngine meta, StoreGate gate, ChunkLayout layout) {
        this.meta = meta;
        this.gate = gate;
        this.layout = layout;
    }

    /** Deletes one batch; returns how many slices were freed. Skips quietly while the store is away. */
    int reapOnce(int batch) throws FsException {
        ChunkStore store = gate.current();
        if (store == null) {
            return 0;
        }
        List<SliceRef> refs = meta.pendingSliceDeletes(batch);
        if (refs.isEmpty()) {
            return 0;
        }
        try {
            for (SliceRef r : refs) {
                for (int b = 0; b < layout.blockCount(r.size()); b++) {
                    store.delete(layout.blockKey(r.id(), b, layout.blockLength(r.size(), b)));
                }
            }
        } catch (StoreException e) {
            return 0;
        }
        meta.confirmSliceDeletes(refs);
        return refs.size();
    }
}
