package io.hangar.core.vfs;

import io.hangar.core.layout.ChunkLayout;
import io.hangar.core.layout.Segment;
import io.hangar.core.layout.SliceMerger;
import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.Slice;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Rewrites fragmented chunks (many overlapping slices from random writes) as one slice, in the background,
 * one block of memory at a time. The engine swaps the records only if the chunk has not changed under us;
 * otherwise the new blocks are deleted and the next trigger tries again.
 */
final class Compactor {
    private static final Logger LOG = Logger.getLogger(Compactor.class.getName());

    private record Job(long inode, int chunk) {
    }

    private final Set<Job> queued = ConcurrentHashMap.newKeySet();
    private final ExecutorService worker;
    private final MetadataEngine meta;
    private final StoreGate gate;
    private final ChunkLayout layout;
    private final SliceIds ids;
    private final int threshold;
    private BlockReader reader;

    private final VfsMetrics metrics;

    Compactor(ExecutorService worker, MetadataEngine meta, StoreGate gate, ChunkLayout layout, SliceIds ids,
            int threshold, VfsMetrics metrics) {
        this.metrics = metrics;
        this.worker = worker;
        this.meta = meta;
        this.gate = gate;
        this.layout = layout;
        this.ids = ids;
        this.threshold = threshold;
    }

    void bind(BlockReader r) {
        this.reader = r;
    }

    void request(long inode, int chunk) {
        Job job = new Job(inode, chunk);
        if (queued.add(job)) {
            try {
                worker.execute(() -> {
                    queued.remove(job);
                    try {
                        compact(inode, chunk, false);
                    } catch (FsException e) {
                        LOG.log(Level.FINE, "compaction of inode " + inode + " chunk " + chunk + " skipped", e);
                    }
                });
            } catch (RejectedExecutionException closing) {
                queued.remove(job);
            }
        }
    }

    /**
     * Compacts one chunk now; returns true if its records were replaced. Unless forced, a chunk with fewer
     * records than the threshold is left alone.
     */
    boolean compact(long inode, int chunk, boolean force) throws FsException {
        List<Slice> slices = meta.readChunk(inode, chunk);
        if (slices.size() < (force ? 2 : threshold)) {
            return false;
        }
        long length = meta.getattr(inode).length();
        int end = 0;
        for (Slice s : slices) {
            if (!s.isHole()) {
                end = Math.max(end, s.end());
            }
        }
        end = (int) Math.min(end, Math.max(0, length - layout.chunkStart(chunk)));
        List<Segment> segs = SliceMerger.merge(slices);
        List<Slice> replacement;
        long id = 0;
        if (end == 0) {
            replacement = List.of();
        } else {
            id = ids.next();
            int bs = layout.blockSize();
            int stored = 0; // bytes of the new slice's blocks that may be in the store (the one in flight too)
            try {
                for (int b = 0; b * bs < end; b++) {
                    int blen = Math.min(bs, end - b * bs);
                    byte[] block = new byte[blen];
                    try {
                        reader.readSegments(segs, 0, b * bs, java.nio.ByteBuffer.wrap(block, 0, blen), null);
                    } catch (FsException e) {
                        // Another client replaced these slices (and deleted their blocks) since we read the list:
                        // the swap would fail anyway. Only a block missing from the current list is an error.
                        if (BlockReader.isMissingBlock(e) && !meta.readChunk(inode, chunk).equals(slices)) {
                            deleteBlocks(id, stored);
                            metrics.compactionFailures.increment();
                            return false;
                        }
                        throw e;
                    }
                    String key = layout.blockKey(id, b, blen);
                    stored += blen;
                    gate.call("compact " + key, st -> {
                        st.put(key, block, 0, blen);
                        return null;
                    });
                    reader.cacheWrittenToDisk(key, java.nio.ByteBuffer.wrap(block, 0, blen));
                }
            } catch (FsException | RuntimeException e) {
                // Stopped midway (the volume closing interrupts us, the store failed): the blocks written so far
                // belong to no slice. Remove them rather than leave them for gc.
                deleteQuietly(id, stored);
                metrics.compactionFailures.increment();
                throw e;
            }
            replacement = List.of(new Slice(id, end, 0, end, 0));
        }
        boolean swapped = meta.compactChunk(inode, chunk, slices, replacement);
        (swapped ? metrics.compactions : metrics.compactionFailures).increment();
        if (swapped) {
            reader.invalidate(inode, chunk);
        } else if (id != 0) {
            deleteBlocks(id, end);
        }
        return swapped;
    }

    private void deleteQuietly(long id, int size) {
        boolean interrupted = Thread.interrupted();
        try {
            deleteBlocks(id, size);
        } catch (FsException | RuntimeException e) {
            LOG.log(Level.FINE, "blocks of abandoned compaction slice " + id + " left for gc", e);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void deleteBlocks(long id, int size) throws FsException {
        for (int b = 0; b < layout.blockCount(size); b++) {
            String key = layout.blockKey(id, b, layout.blockLength(size, b));
            gate.call("delete " + key, st -> {
                st.delete(key);
                return null;
            });
            reader.dropCached(key);
        }
    }
}
