package io.hangar.spi.store;

import java.nio.ByteBuffer;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A flat store of immutable objects addressed by key: a local directory, a RADOS pool, an S3 or OSS bucket.
 * Hangar writes each block once and never modifies it, so a store needs no read-your-overwrite semantics.
 *
 * <p>Keys are relative, '/'-separated, without leading '/', "." or ".." segments (INVALID otherwise).
 * {@link #put} is atomic: a reader sees the whole object or none, and once it returns the object is durable.
 * Implementations are thread-safe. Every failure is a {@link StoreException} of a documented kind.
 */
@ConsumerType
public interface ChunkStore extends AutoCloseable {

    /** The URL this store was opened with, without secrets. */
    String describe();

    /** Stores {@code data[off, off+len)} under {@code key}, replacing any object with that key. */
    void put(String key, byte[] data, int off, int len) throws StoreException;

    /**
     * Reads {@code length} bytes of an object from {@code offset} ({@code length < 0}: to the end). A range
     * that runs past the end is cut at the end; an offset past the end yields an empty array.
     */
    byte[] get(String key, long offset, int length) throws StoreException;

    /**
     * Stores the remaining bytes of {@code data} (position to limit; the buffer's position is not moved) under
     * {@code key}, like {@link #put(String, byte[], int, int)}. A store that can write from native memory
     * (a direct buffer) without copying it first overrides this; the default copies into an array.
     *
     * @since 1.1
     */
    default void put(String key, ByteBuffer data) throws StoreException {
        if (data.hasArray()) {
            put(key, data.array(), data.arrayOffset() + data.position(), data.remaining());
            return;
        }
        byte[] copy = new byte[data.remaining()];
        data.get(data.position(), copy);
        put(key, copy, 0, copy.length);
    }

    /**
     * Reads an object from {@code offset} into {@code dst}, at most {@code dst.remaining()} bytes, and returns
     * how many it read (the object's bytes from offset, cut at its end); dst's position moves past them.
     * A store that can read into native memory without a copy overrides this; the default reads an array.
     *
     * @since 1.1
     */
    default int get(String key, long offset, ByteBuffer dst) throws StoreException {
        byte[] b = get(key, offset, dst.remaining());
        int n = Math.min(b.length, dst.remaining());
        dst.put(b, 0, n);
        return n;
    }

    /** NOT_FOUND if there is no such object. */
    ObjectInfo head(String key) throws StoreException;

    /** Deletes an object; deleting a missing object is not an error. */
    void delete(String key) throws StoreException;

    /**
     * Lists objects whose keys start with {@code prefix}, in key order, after {@code startAfter} (null: from
     * the start), at most {@code limit} of them.
     */
    ListPage list(String prefix, String startAfter, int limit) throws StoreException;

    /** Releases connections and threads. */
    @Override
    void close();
}
