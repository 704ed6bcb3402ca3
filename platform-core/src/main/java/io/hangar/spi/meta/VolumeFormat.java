package io.hangar.spi.meta;

/**
 * The settings a volume is formatted with, recorded in its metadata. {@code blockSize} and
 * {@code chunkSize} are fixed for the life of the volume; {@code storage} names the chunk store by URL.
 * {@code capacityBytes} and {@code inodeLimit} of 0 mean unlimited.
 */
public record VolumeFormat(String name, String uuid, String storage, int blockSize, int chunkSize,
        long capacityBytes, long inodeLimit, long createdMs) {

    public static final int DEFAULT_BLOCK_SIZE = 4 << 20;
    public static final int DEFAULT_CHUNK_SIZE = 64 << 20;
}
