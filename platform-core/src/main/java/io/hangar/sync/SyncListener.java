package io.hangar.sync;

/** Progress of one sync, called from the sync's threads. */
public interface SyncListener {
    SyncListener NONE = new SyncListener() {
    };

    /** A file was examined; {@code bytes} is its length. */
    default void scanned(String path, long bytes) {
    }

    /** Block bytes were copied from store to store. */
    default void copied(long bytes) {
    }

    /** A file is at the destination as the source has it (copied or already there). */
    default void done(String path, long bytes, boolean copied) {
    }

    /** A path was left alone and reported: a conflict or a failure. */
    default void problem(String path, String why) {
    }
}
