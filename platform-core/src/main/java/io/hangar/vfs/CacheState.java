package io.hangar.vfs;

import org.osgi.annotation.versioning.ProviderType;

/**
 * How much of one file's stored data the volume's caches hold ({@link Volume#cacheState}). Holes are not
 * stored data. Since 1.5.
 */
@ProviderType
public interface CacheState {
    /** Bytes of the file's stored blocks, each block counted once. */
    long storedBytes();

    /** Of them, the bytes the disk block cache holds (0 without one). */
    long diskBytes();

    /** Of them, the bytes the in-memory block cache holds. */
    long memoryBytes();

    /**
     * Of them, the bytes the volume's cache group holds: in this process's caches or in the caches of each
     * block's owner; -1 when this process is in no group. Since 1.6.
     */
    default long groupBytes() {
        return -1;
    }
}
