package io.hangar.sync;

import io.hangar.fs.FsException;
import io.hangar.spi.sync.RepoChange;
import io.hangar.spi.sync.SourceView;
import java.util.List;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Copies trees between volumes. Safe to call from several threads; two syncs into one destination at the same
 * time are not supported (the second may report conflicts for what the first wrote).
 */
@ProviderType
public interface VolumeSync {
    /**
     * Syncs {@code spec.path()} of the source to the destination. Files are compared by the source's inode and
     * ctime recorded at the last sync (its content identity), and the destination's ctime; what changed is
     * copied, what changed at the destination too is a conflict (reported, the destination kept). Each file
     * appears at the destination whole or not at all. Blocks already copied (also by a sync that died) are
     * not copied again. EINVAL for a bad spec or volumes of different block or chunk sizes.
     */
    SyncReport sync(SyncSpec spec, SyncListener listener) throws FsException;

    /** The syncs recorded at the destination volume {@code metaUrl}, one per source and name. */
    List<SyncStatus> status(String metaUrl) throws FsException;

    /** Records the state of a sync runner (a strategy) at the destination, for {@link #status}. */
    void recordStatus(String metaUrl, SyncStatus status) throws FsException;

    /**
     * The last change of {@code source}'s log that the runner {@code name} handled, as {@link #recordPosition}
     * kept it at the destination {@code metaUrl}; empty when none is recorded.
     *
     * @since 1.1
     */
    Optional<RepoChange> position(String metaUrl, String source, String name) throws FsException;

    /**
     * Keeps {@code last}, the last change of {@code source}'s log that the runner {@code name} has handled, at
     * the destination {@code metaUrl}, so that a runner started again goes on after it.
     *
     * @since 1.1
     */
    void recordPosition(String metaUrl, String source, String name, RepoChange last) throws FsException;

    /** The repository of the volume at {@code metaUrl}, read as a sync source. Close it when done. */
    Source source(String metaUrl) throws FsException;

    /** A source repository: its changes and what strategies may read of it. */
    interface Source extends SourceView, AutoCloseable {
        /** Changes after {@code afterSeq} (0: from the start), at most {@code limit}, in log order. */
        List<RepoChange> changes(long afterSeq, int limit) throws FsException;

        @Override
        void close();
    }
}
