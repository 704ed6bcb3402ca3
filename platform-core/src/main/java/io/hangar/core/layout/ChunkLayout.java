package io.hangar.core.layout;

/**
 * Where bytes of a file live: files are cut into chunks of {@code chunkSize}; a slice written into a chunk
 * is stored as blocks of at most {@code blockSize}, each an immutable object named
 * {@code <volume>/chunks/<id/1000000>/<id/1000>/<id>_<blockIndex>_<blockLength>}.
 */
public final class ChunkLayout {
    private final String volume;
    private final int blockSize;
    private final int chunkSize;

    public ChunkLayout(String volume, int blockSize, int chunkSize) {
        if (blockSize <= 0 || chunkSize <= 0 || chunkSize % blockSize != 0) {
            throw new IllegalArgumentException("chunk size " + chunkSize + " is not a multiple of block size "
                    + blockSize);
        }
        this.volume = volume;
        this.blockSize = blockSize;
        this.chunkSize = chunkSize;
    }

    public int blockSize() {
        return blockSize;
    }

    public int chunkSize() {
        return chunkSize;
    }

    public int chunkIndex(long fileOffset) {
        long index = fileOffset / chunkSize;
        if (index > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("offset beyond the largest file: " + fileOffset);
        }
        return (int) index;
    }

    public int offsetInChunk(long fileOffset) {
        return (int) (fileOffset % chunkSize);
    }

    public long chunkStart(int chunkIndex) {
        return (long) chunkIndex * chunkSize;
    }

    /** Number of blocks a slice of {@code sliceSize} bytes is stored as. */
    public int blockCount(int sliceSize) {
        return (sliceSize + blockSize - 1) / blockSize;
    }

    /** Length of block {@code blockIndex} of a slice of {@code sliceSize} bytes. */
    public int blockLength(int sliceSize, int blockIndex) {
        return Math.min(blockSize, sliceSize - blockIndex * blockSize);
    }

    public String blockKey(long sliceId, int blockIndex, int blockLength) {
        return volume + "/chunks/" + sliceId / 1_000_000 + "/" + sliceId / 1_000 + "/" + sliceId + "_" + blockIndex
                + "_" + blockLength;
    }

    /**
     * The length block key {@code key} of this volume names, or -1 if it is not one (another volume's, not in
     * the form {@link #blockKey} writes, or longer than a block).
     */
    public int blockLengthOf(String key) {
        int us = key.lastIndexOf('_');
        int slash = key.lastIndexOf('/');
        int them = key.lastIndexOf('_', us - 1);
        if (us < 0 || them <= slash) {
            return -1;
        }
        try {
            long id = Long.parseLong(key.substring(slash + 1, them));
            int index = Integer.parseInt(key.substring(them + 1, us));
            int length = Integer.parseInt(key.substring(us + 1));
            boolean ok = id >= 0 && index >= 0 && length > 0 && length <= blockSize
                    && key.equals(blockKey(id, index, length));
            return ok ? length : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The key under which a volume's identity is recorded in its chunk store. */
    public static String markerKey(String volume) {
        return volume + "/volume.id";
    }
}
