package io.hangar.spi.sync;

import java.util.List;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Decides what to sync from a source volume to a destination volume, and when. The sync runner calls
 * {@link #due} on one thread about once a second with the changes the source repository committed since the
 * previous call (its audit log, in log order), and runs what it answers in order.
 *
 * <p>Rules every strategy follows (the conformance kit checks them):
 * <ul>
 * <li>{@code due} answers at most {@link #MAX_REQUESTS} requests, each path at most once, every path absolute
 * and normalized ("/" or "/a/b": no empty, "." or ".." name, no trailing '/').</li>
 * <li>Nothing the changes lead to is dropped: when they lead to more than {@link #MAX_REQUESTS} requests, it
 * answers {@link #MAX_REQUESTS} of them, and the rest in the calls that follow. After an answer of
 * {@link #MAX_REQUESTS} requests the runner calls again with no changes, until an answer holds fewer; only
 * then does it read (and record as handled) further changes.</li>
 * <li>It is cheap and does not block: no I/O except through the {@link SourceView} it is given, whose calls
 * are bounded by the model they name.</li>
 * <li>Changes it does not understand (other actions, other teams) are ignored, never an error.</li>
 * <li>A change it answered is not answered again: the next call with no new changes and before any
 * schedule of its own is due answers nothing.</li>
 * </ul>
 */
@ConsumerType
public interface SyncStrategy {
    /** Service property: the source volume's metadata URL. */
    String SOURCE = "sync.source";
    /** Service property: the destination volume's metadata URL. */
    String DESTINATION = "sync.destination";
    /** Service property (optional): the destination's cache group to warm synced trees into. */
    String WARM_GROUP = "sync.warm.group";
    /** Service property (optional, int): block copies in flight (default 8). */
    String THREADS = "sync.threads";
    /** Service property (optional, long): bytes per second of block copies, 0 for no limit. */
    String BWLIMIT = "sync.bwlimit";
    /** Service property (optional, boolean): remove at the destination what sync put there and the source no longer has. */
    String DELETE = "sync.delete";

    int MAX_REQUESTS = 1000;

    /**
     * A name for status and logs, such as {@code periodic /vision every 3600 s}: the same for the same
     * configuration in every run, since the runner keeps the strategy's status and its position in the source's
     * log under it.
     */
    String describe();

    /**
     * What to sync now.
     *
     * @param nowMs the runner's clock
     * @param changes the source repository's changes since the previous call, in log order (may be empty)
     * @param source the source's repository, to look up what a change touched
     */
    List<SyncRequest> due(long nowMs, List<RepoChange> changes, SourceView source) throws Exception;
}
