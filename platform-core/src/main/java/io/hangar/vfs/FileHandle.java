package io.hangar.vfs;

import io.hangar.fs.FsException;
import java.nio.ByteBuffer;
import org.osgi.annotation.versioning.ProviderType;

/**
 * An open file. Writes are buffered (within the volume's memory bound) and become visible to other clients
 * on {@link #flush()}, {@link #fsync()} or {@link #close()}: close-to-open consistency. Reads through any
 * handle of the same volume see this handle's writes. Handles are safe for use from several threads.
 */
@ProviderType
public interface FileHandle extends AutoCloseable {
    long inode();

    /** Reads into {@code buf[off, off+len)} from file position {@code position}; returns bytes read, 0 at EOF. */
    int read(long position, byte[] buf, int off, int len) throws FsException;

    /**
     * Reads into {@code dst} (position to limit) from file position {@code position}; returns bytes read, 0 at
     * EOF, and moves dst's position past them. With a direct buffer the bytes are copied once, from the
     * volume's block memory into dst.
     *
     * @since 1.2
     */
    int read(long position, ByteBuffer dst) throws FsException;

    /** What {@link #readView} hands file bytes to. */
    @FunctionalInterface
    interface ViewReader {
        /** Consumes {@code view} (direct, read-only, valid only during this call). */
        void read(ByteBuffer view) throws FsException;
    }

    /**
     * Hands up to {@code len} file bytes at {@code position} to {@code reader} as a read-only view of the
     * volume's block memory, without copying them, when they lie in one stored block (a FUSE reply can then be
     * sent from that memory); returns the number of bytes handed over (0 at EOF), or -1 if the range is not
     * one block's (a hole, a block boundary, unflushed writes: use {@link #read(long, ByteBuffer)}), in which
     * case the reader was not called.
     *
     * @since 1.2
     */
    int readView(long position, int len, ViewReader reader) throws FsException;

    /**
     * Writes {@code buf[off, off+len)} at {@code position}; on a handle opened with O_APPEND at the end of
     * the file instead. Returns the position written at.
     */
    long write(long position, byte[] buf, int off, int len) throws FsException;

    /**
     * Writes the remaining bytes of {@code src} like {@link #write(long, byte[], int, int)}; src's position
     * moves past them. They are copied once, into the volume's block memory.
     *
     * @since 1.2
     */
    long write(long position, ByteBuffer src) throws FsException;

    /**
     * Says that this handle will read {@code [start, end)} in order and nothing past it (a ranged request):
     * read-ahead starts with the first read at {@code start} and stops at {@code end}. Reads elsewhere still
     * work, without read-ahead past {@code end}. The default does nothing. Since 1.7.
     */
    default void readRange(long start, long end) {
    }

    /** Uploads buffered writes and commits them to the metadata engine. */
    void flush() throws FsException;

    /** Same as {@link #flush()}: every committed slice is durable in store and engine. */
    void fsync() throws FsException;

    /** Flushes and releases the handle; the last close of an unlinked file frees its data. */
    @Override
    void close() throws FsException;
}
