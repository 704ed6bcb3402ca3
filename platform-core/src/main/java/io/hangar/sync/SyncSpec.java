package io.hangar.sync;

/**
 * One sync: the tree at {@code path} of the volume at {@code source} to the same path of {@code destination}.
 *
 * @param name who syncs (a strategy's name, "cli"): status is kept per source and name
 * @param dryRun report what would change, change nothing
 * @param delete remove at the destination what an earlier sync put there and the source no longer has
 * @param threads block copies in flight, 1 to 256
 * @param bytesPerSecond limit of block bytes copied per second, 0 for none
 * @param warmGroup the destination's cache group to warm every synced file into as soon as it is applied; a
 *     warm-up that cannot be done (no member of the group owns blocks) is a problem in the report, and the
 *     files are synced all the same
 *            (while the next ones copy); empty for none
 */
public record SyncSpec(String source, String destination, String path, String name, boolean dryRun, boolean delete,
        int threads, long bytesPerSecond, String warmGroup) {
    public static final int MAX_THREADS = 256;

    public SyncSpec {
        if (threads < 1 || threads > MAX_THREADS) {
            throw new IllegalArgumentException("threads must be 1 to " + MAX_THREADS + ": " + threads);
        }
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("negative bandwidth limit " + bytesPerSecond);
        }
        warmGroup = warmGroup == null ? "" : warmGroup.trim();
        if (!io.hangar.spi.sync.SyncRequest.isNormalPath(path)) {
            throw new IllegalArgumentException("not an absolute, normalized path: " + path);
        }
    }
}
