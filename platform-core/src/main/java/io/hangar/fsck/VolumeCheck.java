package io.hangar.fsck;

import io.hangar.fs.FsException;
import java.time.Duration;
import java.util.function.Consumer;
import org.osgi.annotation.versioning.ProviderType;

/**
 * fsck and gc of one volume. Both read the metadata and the chunk store listing page by page (slices in id
 * order, the store by key) and hold one listing page and one store directory of block keys at a time, so
 * memory stays bounded on a volume with millions of blocks. Each finding is one line given to {@code report}.
 */
@ProviderType
public interface VolumeCheck extends AutoCloseable {
    /** Leaked blocks younger than this are not removed by default: longer than any write takes to commit. */
    Duration DEFAULT_GRACE = Duration.ofHours(1);

    /**
     * Checks that the metadata is consistent (the engine's own check) and that every slice a file references
     * has all its blocks in the store with the right lengths; lists blocks no slice references as leaked.
     * With {@code repair}, the engine repairs what it safely can; missing blocks cannot be repaired and are
     * named. Run it on a quiet volume: writes in flight show up as leaked (young) blocks.
     */
    FsckReport fsck(boolean repair, Consumer<String> report) throws FsException;

    /**
     * Deletes the blocks of slices whose last reference went (finishing pending deletions) and the leaked
     * blocks older than {@code olderThan}. With {@code dryRun}, only reports what it would delete.
     */
    GcReport gc(boolean dryRun, Duration olderThan, Consumer<String> report) throws FsException;

    /** Releases what a standalone check opened; a no-op for a check of a served volume. */
    @Override
    void close();
}
