package io.hangar.vfs.standalone;

import io.hangar.fs.FsException;
import io.hangar.spi.meta.VolumeFormat;
import java.util.Map;

/**
 * Formats and opens volumes by metadata URL without a framework. Engines and stores are located with
 * {@link java.util.ServiceLoader} ({@code META-INF/services}) by the scheme of their URL.
 *
 * <p>Errors are {@link FsException}s whose message is one line fit for a user: "not formatted", "no engine
 * for scheme", "store unreachable", "wrong store for this volume".
 */
public final class Volumes {
    private Volumes() {
    }

    /**
     * Formats the metadata at {@code metaUrl} as volume {@code name} over the store at {@code storageUrl}
     * and marks the store as belonging to it. Re-formatting the same volume is a no-op; formatting metadata
     * or a store that belongs to another volume fails with EEXIST.
     *
     * @param options {@code block-size} (bytes, default 4 MiB), {@code capacity} (bytes, 0 = unlimited),
     *            {@code inodes} (0 = unlimited)
     */
    public static VolumeFormat format(String metaUrl, String name, String storageUrl, Map<String, String> options)
            throws FsException {
        return io.hangar.core.volume.VolumeOpener.standalone().format(metaUrl, name, storageUrl, options);
    }

    /** The recorded settings of the volume at {@code metaUrl}; ENOENT if it was never formatted. */
    public static VolumeFormat status(String metaUrl) throws FsException {
        return io.hangar.core.volume.VolumeOpener.standalone().status(metaUrl);
    }

    /**
     * fsck and gc of the volume at {@code metaUrl} with its recorded chunk store (which must carry the volume's
     * marker). Close it to disconnect.
     */
    public static io.hangar.fsck.VolumeCheck check(String metaUrl) throws FsException {
        return io.hangar.core.volume.VolumeOpener.standalone().checker(metaUrl);
    }

    /**
     * Opens the volume at {@code metaUrl} with its recorded chunk store.
     *
     * @param options VFS tuning: {@code buffer-size} (bytes of write buffers + read-ahead, default 256 MiB),
     *            {@code upload-threads}, {@code read-ahead} (bytes), {@code cache-size} (bytes of in-memory
     *            block cache); the disk block cache: {@code cache-dir} (absolute directories separated by
     *            ':'; absent or {@code memory}: none), {@code disk-cache-size} (bytes in all, default 100 GiB),
     *            {@code free-space-ratio} (default 0.1), {@code cache-writes} (keep written blocks too); the
     *            cache group: {@code cache-group} (a name; absent: none), {@code group-address}
     *            ({@code HOST[:PORT]} to listen at and be reached at), {@code no-sharing} (own no blocks)
     */
    public static OpenVolume open(String metaUrl, Map<String, String> options) throws FsException {
        return io.hangar.core.volume.VolumeOpener.standalone().open(metaUrl, options);
    }

    /**
     * Sync between volumes by metadata URL, with engines, stores and repository stores found on the class
     * path; its meters count into {@code registry}.
     */
    public static io.hangar.sync.VolumeSync sync(io.micrometer.core.instrument.MeterRegistry registry) {
        ClassLoader cl = Volumes.class.getClassLoader();
        return new io.hangar.core.sync.VolumeSyncer(io.hangar.core.volume.VolumeOpener.standalone(),
                scheme -> java.util.ServiceLoader.load(io.hangar.spi.repo.RepositoryStoreProvider.class, cl).stream()
                        .map(java.util.ServiceLoader.Provider::get).filter(p -> p.schemes().contains(scheme))
                        .findFirst(),
                new io.hangar.core.sync.SyncMetrics(registry));
    }

    /**
     * The memory a volume opened with {@code options} (as for {@link #open}) holds at most for data: write
     * buffers and read-ahead ({@code buffer-size}) plus the block cache ({@code cache-size}), plus, with a
     * disk cache, the blocks waiting for its writer (64 MiB at most), and in a cache group the blocks being
     * served to peers (16 at most, 64 MiB of 4 MiB blocks), in bytes. A
     * runtime sizes its heap from it. Every option is parsed: IllegalArgumentException, with a one-line
     * message, for a bad one (the disk cache's index, about 150 bytes per cached block, is not counted).
     */
    public static long dataMemory(Map<String, String> options) {
        io.hangar.core.vfs.VfsOptions o = io.hangar.core.vfs.VfsOptions.parse(options);
        return o.bufferSize() + o.cacheSize()
                + (o.cacheDirs().isEmpty() ? 0 : io.hangar.core.cache.DiskBlockCache.MAX_PENDING)
                + (o.cacheGroup().isEmpty() ? 0 : io.hangar.core.cache.CacheGroup.SERVING_MEMORY);
    }

    /**
     * The heap the disk block cache's index may take for a volume of {@code blockSize} opened with
     * {@code options}: one entry per block the cache can hold; 0 without {@code cache-dir}. A runtime adds it
     * to its heap. IllegalArgumentException for a bad option, as {@link #dataMemory}.
     */
    public static long diskCacheIndexBytes(Map<String, String> options, int blockSize) {
        io.hangar.core.vfs.VfsOptions o = io.hangar.core.vfs.VfsOptions.parse(options);
        return o.cacheDirs().isEmpty() ? 0
                : o.diskCacheSize() / blockSize * io.hangar.core.cache.DiskBlockCache.INDEX_BYTES_PER_BLOCK;
    }
}
