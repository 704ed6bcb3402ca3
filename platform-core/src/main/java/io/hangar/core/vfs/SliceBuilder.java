package io.hangar.core.vfs;

import io.hangar.core.layout.ChunkLayout;
import io.hangar.fs.FsException;
import io.hangar.spi.meta.Slice;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One slice being written: contiguous bytes appended at a chunk position. Each block is uploaded as soon as
 * it is full, so a large sequential write streams to the store while the writer goes on; the last, partial
 * block is uploaded when the slice is sealed.
 */
final class SliceBuilder {
    private static final int MIN_BUFFER = BlockPool.MIN_CAPACITY;

    final int chunk;
    final int pos;
    final long id;
    private final ChunkLayout layout;
    private final Uploader uploader;
    private final BufferBudget budget;
    private final BufferBudget.Holder owner;
    private final BlockPool pool;
    private final List<CompletableFuture<Void>> uploads = new ArrayList<>();
    private BlockBuffer block;
    private volatile int buffered;
    private int blockFill;
    private int len;
    private boolean sealed;

    /** Uploads one block; owns the buffer (and its budget) from then on. */
    interface Uploader {
        CompletableFuture<Void> upload(String key, BlockBuffer data, int length, int budgetBytes);
    }

    SliceBuilder(int chunk, int pos, long id, ChunkLayout layout, Uploader uploader, BufferBudget budget,
            BufferBudget.Holder owner, BlockPool pool) {
        this.pool = pool;
        this.chunk = chunk;
        this.pos = pos;
        this.id = id;
        this.layout = layout;
        this.uploader = uploader;
        this.budget = budget;
        this.owner = owner;
    }

    /** Bytes of buffer held for the partial block (0 when none); read without the owner's lock. */
    int buffered() {
        return buffered;
    }

    int len() {
        return len;
    }

    int end() {
        return pos + len;
    }

    /** Room left in this slice before it reaches the end of its chunk. */
    int room() {
        return layout.chunkSize() - pos - len;
    }

    /**
     * Appends up to {@code room()} bytes and returns how many it took; buffers are reserved here. Fewer than
     * {@code n} means the budget asked this slice to give its partial buffer up: the caller seals it and
     * goes on in a new slice.
     */
    int append(ByteBuffer data, int n) throws FsException {
        int bs = layout.blockSize();
        int done = 0;
        while (n > 0) {
            int want = Math.min(n, bs - blockFill);
            if (!ensureCapacity(blockFill + want)) {
                return done;
            }
            ByteBuffer part = data.duplicate();
            part.limit(part.position() + want);
            block.put(blockFill, part);
            data.position(data.position() + want);
            blockFill += want;
            len += want;
            n -= want;
            done += want;
            if (blockFill == bs) {
                shipBlock();
            }
        }
        return done;
    }

    private boolean ensureCapacity(int needed) throws FsException {
        int have = block == null ? 0 : block.capacity();
        if (needed <= have) {
            return true;
        }
        // Small files stay small in memory. A slice that already filled a block, or a first write of a
        // quarter block or more, is a sequential writer: give it whole blocks and copy nothing twice.
        int bs = layout.blockSize();
        int cap;
        if (len >= bs || needed >= bs / 4) {
            cap = bs;
        } else {
            cap = Math.max(MIN_BUFFER, have);
            while (cap < needed) {
                cap = Math.min(bs, cap * 2);
            }
        }
        cap = pool.capacityFor(cap);
        if (!budget.acquire(cap - have, owner, have > 0)) {
            return false;
        }
        BlockBuffer grown = pool.allocate(cap);
        if (block != null) {
            block.copyTo(grown, blockFill);
            block.release();
        }
        block = grown;
        buffered = cap;
        return true;
    }

    private void shipBlock() {
        int index = (len - 1) / layout.blockSize();
        BlockBuffer data = block;
        int fill = blockFill;
        block = null;
        blockFill = 0;
        buffered = 0;
        budget.uploading(data.capacity());
        uploads.add(uploader.upload(layout.blockKey(id, index, fill), data, fill, data.capacity()));
    }

    /** Uploads the partial last block; completes when every block is stored. */
    CompletableFuture<Void> seal() {
        if (!sealed) {
            sealed = true;
            if (blockFill > 0) {
                shipBlock();
            }
        }
        return CompletableFuture.allOf(uploads.toArray(CompletableFuture[]::new));
    }

    /** Gives the partial buffer back without storing it (the writer failed: its data is lost anyway). */
    void discard() {
        if (block != null) {
            budget.returnUnused(block.capacity());
            block.release();
            block = null;
            blockFill = 0;
            buffered = 0;
        }
        sealed = true;
    }

    Slice record() {
        return new Slice(id, len, 0, len, pos);
    }

}
