package io.hangar.cli;

/**
 * The exit codes of {@code ./hangar}, one per kind of failure so that scripts can tell them apart.
 * docs/cli.md lists them; keep both in step.
 */
public final class ExitCodes {
    public static final int OK = 0;
    /** Anything not covered below: a local I/O error, an internal error. */
    public static final int FAILURE = 1;
    /** Bad arguments or options, a malformed URL, no volume given and no HANGAR_META. */
    public static final int USAGE = 2;
    /** A path in the volume, or a local file, does not exist. */
    public static final int NOT_FOUND = 3;
    /** No volume at the metadata URL (never formatted), no engine for its scheme, or no such served volume. */
    public static final int UNKNOWN_VOLUME = 4;
    /** The metadata engine or chunk store cannot be reached (connection refused, I/O error, permission). */
    public static final int UNREACHABLE = 5;
    /** The chunk store recorded for the volume holds no volume, or another volume of that name. */
    public static final int WRONG_STORE = 6;
    /** The volume's capacity is used up or the store is full (ENOSPC), or the local disk is full. */
    public static final int NO_SPACE = 7;
    /** The file system refused: exists, not a directory, is a directory, not empty, permission, … */
    public static final int REFUSED = 8;
    /** The runtime (up, mount) did not start or stopped before it served. */
    public static final int RUNTIME_FAILED = 9;
    /** fsck: the metadata and the store agree, but the store holds leaked blocks ({@code gc} removes them). */
    public static final int LEAKED = 10;
    /** fsck: problems remain (not repaired, or blocks missing): data may be lost. */
    public static final int INCONSISTENT = 11;
    /** The model repository refused the caller: no or a bad token (401), not allowed (403). */
    public static final int DENIED = 12;
    /** sync: conflicts or failed files were left as they were (the report names them); the rest is synced. */
    public static final int SYNC_INCOMPLETE = 13;
    /** Interrupted (Ctrl-C). */
    public static final int INTERRUPTED = 130;

    private ExitCodes() {
    }
}
