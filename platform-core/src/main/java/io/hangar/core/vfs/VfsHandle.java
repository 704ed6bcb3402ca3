package io.hangar.core.vfs;

import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.fs.OpenFlags;
import io.hangar.vfs.FileHandle;
import java.nio.ByteBuffer;

/**
 * An open file of a {@link VfsVolume}, with the {@link ReadAhead} of its stream: a read counts as sequential
 * when it starts near where the last one ended (frontends such as FUSE answer the kernel's read-ahead with
 * several requests in flight, which arrive slightly out of order).
 */
final class VfsHandle implements FileHandle {
    private final VfsVolume volume;
    private final long inode;
    private final int flags;
    private final FileWriter writer;
    private final ReadAhead ahead;
    private boolean closed;
    /** Made by {@link VfsVolume#create} and not yet synced: the engine may not have flushed the creation. */
    private volatile boolean createdUnsynced;
    /** The writer's commits when the file was made: a later one is durable, and carries the creation along. */
    private long commitsAtCreation;

    VfsHandle(VfsVolume volume, long inode, int flags, FileWriter writer, ReadAhead ahead) {
        this.volume = volume;
        this.inode = inode;
        this.flags = flags;
        this.writer = writer;
        this.ahead = ahead;
    }

    void created() {
        commitsAtCreation = writer != null ? writer.commits() : 0;
        createdUnsynced = true;
    }

    /**
     * After this handle's data is committed: the creation is made durable too, once. A slice committed since
     * has done it already (a durable change makes the engine's earlier ones durable: createFile's contract),
     * so only a file closed without data costs a sync of its own.
     */
    private void syncCreated() throws FsException {
        if (createdUnsynced) {
            if (writer == null || writer.commits() == commitsAtCreation) {
                volume.syncCreated();
            }
            createdUnsynced = false;
        }
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
        return read(position, ByteBuffer.wrap(buf, off, len));
    }

    @Override
    public int read(long position, ByteBuffer dst) throws FsException {
        checkOpen();
        if ((flags & OpenFlags.ACCMODE) == OpenFlags.WRONLY) {
            throw new FsException(Errno.EBADF, "handle is write-only");
        }
        if (position < 0) {
            throw new FsException(Errno.EINVAL, "negative position");
        }
        return volume.read(inode, position, dst, ahead);
    }

    @Override
    public int readView(long position, int len, ViewReader reader) throws FsException {
        checkOpen();
        if ((flags & OpenFlags.ACCMODE) == OpenFlags.WRONLY) {
            throw new FsException(Errno.EBADF, "handle is write-only");
        }
        if (position < 0 || len < 0) {
            throw new FsException(Errno.EINVAL, "negative position or length");
        }
        return volume.readView(inode, position, len, ahead, reader);
    }

    @Override
    public void readRange(long start, long end) {
        ahead.range(start, end);
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
        return write(position, ByteBuffer.wrap(buf, off, len));
    }

    @Override
    public long write(long position, ByteBuffer src) throws FsException {
        checkOpen();
        if (!OpenFlags.writable(flags)) {
            throw new FsException(Errno.EBADF, "handle is read-only");
        }
        if (position < 0) {
            throw new FsException(Errno.EINVAL, "negative position");
        }
        return volume.write(inode, writer, (flags & OpenFlags.APPEND) != 0, position, src);
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
        syncCreated();
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
        ahead.close();
        try {
            volume.release(this, writer);
        } catch (FsException | RuntimeException e) {
            // The data since the last flush is lost (release said so); the file itself still has to stay.
            try {
                syncCreated();
            } catch (FsException | RuntimeException s) {
                e.addSuppressed(s);
            }
            throw e;
        }
        syncCreated();
    }

    private synchronized void checkOpen() throws FsException {
        if (closed) {
            throw new FsException(Errno.EBADF, "file handle is closed");
        }
    }
}
