package io.hangar.core.vfs;

import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.fs.OpenFlags;
import io.hangar.vfs.FileHandle;

/**
 * An open file of a {@link VfsVolume}; remembers where the last read ended to recognise sequential reads.
 * A read counts as sequential when it starts near that point: frontends such as FUSE answer the kernel's
 * read-ahead with several requests in flight, which arrive slightly out of order.
 */
final class VfsHandle implements FileHandle {
    private final VfsVolume volume;
    private final long inode;
    private final int flags;
    private final FileWriter writer;
    private static final long SEQUENTIAL_SLACK = 2 << 20;
    private long lastReadEnd = -1;
    private long prefetchedTo;
    private boolean closed;

    VfsHandle(VfsVolume volume, long inode, int flags, FileWriter writer) {
        this.volume = volume;
        this.inode = inode;
        this.flags = flags;
        this.writer = writer;
    }

    @Override
    public long inode() {
        return inode;
    }

    @Override
    public int read(long position, byte[] buf, int off, int len) throws FsException {
        checkOpen();
        if ((flags & OpenFlags.ACCMODE) == OpenFlags.WRONLY) {
            throw new FsException(Errno.EBADF, "handle is write-only");
        }
        if (position < 0 || len < 0) {
            throw new FsException(Errno.EINVAL, "negative position or length");
        }
        boolean sequential;
        synchronized (this) {
            sequential = position == 0 || lastReadEnd >= 0 && Math.abs(position - lastReadEnd) <= SEQUENTIAL_SLACK;
        }
        int n = volume.read(inode, position, buf, off, len, sequential ? this : null);
        synchronized (this) {
            lastReadEnd = position + n;
        }
        return n;
    }

    /**
     * Advances the read-ahead window of a sequential reader now at {@code position}; returns the range to
     * prefetch as {from, length}, or null while the window is still mostly ahead of the reader.
     */
    synchronized long[] nextPrefetch(long position, long readAhead) {
        long from = Math.max(prefetchedTo, position);
        long to = position + readAhead;
        // Prefetch in steps of a quarter window so the store sees large, overlapping requests.
        if (to - from < readAhead / 4) {
            return null;
        }
        prefetchedTo = to;
        return new long[] {from, to - from};
    }

    @Override
    public long write(long position, byte[] buf, int off, int len) throws FsException {
        checkOpen();
        if (!OpenFlags.writable(flags)) {
            throw new FsException(Errno.EBADF, "handle is read-only");
        }
        if (position < 0 || len < 0) {
            throw new FsException(Errno.EINVAL, "negative position or length");
        }
        return volume.write(inode, writer, (flags & OpenFlags.APPEND) != 0, position, buf, off, len);
    }

    /**
     * Commits the pending writes of the inode, whichever handle of this volume made them: data can reach the
     * file after its writer's last flush (mmap write-back, a dup'd descriptor), and the kernel flushes every
     * descriptor as it is closed, also read-only ones.
     */
    @Override
    public void flush() throws FsException {
        checkOpen();
        volume.flush(inode, writer);
    }

    @Override
    public void fsync() throws FsException {
        flush();
    }

    @Override
    public void close() throws FsException {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        volume.release(this, writer);
    }

    private synchronized void checkOpen() throws FsException {
        if (closed) {
            throw new FsException(Errno.EBADF, "file handle is closed");
        }
    }
}
