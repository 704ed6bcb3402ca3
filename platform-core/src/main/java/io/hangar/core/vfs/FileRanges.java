package io.hangar.core.vfs;

import io.hangar.core.layout.ChunkLayout;
import io.hangar.fs.Attr;
import io.hangar.fs.Errno;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.Slice;

/**
 * Range operations on committed file layouts, for {@link VfsVolume}: zeroing a range with hole records, and
 * sharing one file's range with another through {@link MetadataEngine#copyRange}. The caller commits the
 * files' buffered writes first, so that what was written before the call lands below what the call does.
 */
final class FileRanges {
    /** Chunks of a range asked to be compacted after it changed; past that, later writes ask for them. */
    private static final int COMPACT_REQUESTS = 64;

    private final MetadataEngine meta;
    private final ChunkLayout layout;
    private final BlockReader reader;
    private final Compactor compactor;

    FileRanges(MetadataEngine meta, ChunkLayout layout, BlockReader reader, Compactor compactor) {
        this.meta = meta;
        this.layout = layout;
        this.reader = reader;
        this.compactor = compactor;
    }

    /** EINVAL for a negative offset or an empty or negative length, EFBIG for an end past the largest file. */
    static void checkRange(long offset, long length) throws FsException {
        if (offset < 0 || length <= 0) {
            throw new FsException(Errno.EINVAL, "range " + offset + "+" + length);
        }
        if (length > MetadataEngine.MAX_FILE_SIZE - offset) {
            throw new FsException(Errno.EFBIG, "range " + offset + "+" + length + " ends past the largest file ("
                    + MetadataEngine.MAX_FILE_SIZE + " bytes)");
        }
    }

    /**
     * Makes {@code [offset, offset+length)} read as zeros: a hole record in every chunk of the range that
     * holds records (a chunk without any reads as zeros already). With {@code keepSize} the range is cut at
     * the file's length and the length stays; without, the file grows to the end of the range (the hole in
     * the range's last chunk extends it). Returns the attributes after the change.
     */
    Attr zero(long inode, long offset, long length, boolean keepSize) throws FsException {
        checkRange(offset, length);
        Attr a = regularFile(inode);
        long end = offset + length;
        long holeEnd = keepSize ? Math.min(end, a.length()) : end;
        boolean grow = !keepSize && end > a.length();
        long mtime = System.currentTimeMillis() * 1_000_000L;
        int requested = 0;
        try {
            for (long at = offset; at < holeEnd;) {
                int chunk = layout.chunkIndex(at);
                long to = Math.min(holeEnd, layout.chunkStart(chunk) + layout.chunkSize());
                if ((grow && to == holeEnd) || !meta.readChunk(inode, chunk).isEmpty()) {
                    meta.writeSlice(inode, chunk, Slice.hole(layout.offsetInChunk(at), (int) (to - at)), mtime);
                    if (requested++ < COMPACT_REQUESTS) {
                        compactor.request(inode, chunk);
                    }
                }
                at = to;
            }
        } finally {
            reader.invalidate(inode);
        }
        return meta.getattr(inode);
    }

    /**
     * Makes {@code [dstOff, dstOff+n)} of {@code dst} read as {@code [srcOff, srcOff+n)} of {@code src}
     * without copying data ({@code n} is {@code len} cut at the source's end, and is returned). EOPNOTSUPP
     * from an engine that cannot: the caller then copies bytes.
     */
    long copy(long src, long srcOff, long dst, long dstOff, long len) throws FsException {
        if (srcOff < 0 || dstOff < 0 || len < 0) {
            throw new FsException(Errno.EINVAL, "copy range " + srcOff + " -> " + dstOff + " of " + len + " bytes");
        }
        long n;
        try {
            n = meta.copyRange(src, srcOff, dst, dstOff, len, System.currentTimeMillis() * 1_000_000L);
        } finally {
            reader.invalidate(dst);
        }
        if (n > 0) {
            int first = layout.chunkIndex(dstOff);
            int last = layout.chunkIndex(dstOff + n - 1);
            for (int c = first; c <= last && c - first < COMPACT_REQUESTS; c++) {
                compactor.request(dst, c);
            }
        }
        return n;
    }

    private Attr regularFile(long inode) throws FsException {
        Attr a = meta.getattr(inode);
        if (a.isDirectory()) {
            throw new FsException(Errno.EISDIR, "inode " + inode + " is a directory");
        }
        if (a.type() != FileType.FILE) {
            throw new FsException(Errno.EINVAL, "inode " + inode + " is not a regular file");
        }
        return a;
    }
}
