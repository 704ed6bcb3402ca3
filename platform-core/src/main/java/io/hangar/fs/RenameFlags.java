package io.hangar.fs;

/** Flags of renameat2(2), with their Linux values. */
public interface RenameFlags {
    /** Fail with EEXIST if the destination exists. */
    int NOREPLACE = 1;
    /** Atomically swap source and destination; both must exist. */
    int EXCHANGE = 2;
}
