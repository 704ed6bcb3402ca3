package io.hangar.spi.store;

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
