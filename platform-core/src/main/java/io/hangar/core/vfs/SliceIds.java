package io.hangar.core.vfs;

import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetadataEngine;

/** Hands out slice ids from batches reserved in the engine: one metadata round trip per batch, not per slice. */
final class SliceIds {
    private static final int BATCH = 64;
    private final MetadataEngine meta;
    private long next;
    private long limit;

    SliceIds(MetadataEngine meta) {
        this.meta = meta;
    }

    synchronized long next() throws FsException {
        if (next == limit) {
            next = meta.newSliceIds(BATCH);
            limit = next + BATCH;
        }
        return next++;
    }
}
