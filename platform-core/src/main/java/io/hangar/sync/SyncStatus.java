package io.hangar.sync;

/**
 * The last run of a sync as recorded at its destination: who ({@code name}), from where, its state
 * ({@code running}, {@code ok}, {@code conflicts}, {@code failed}), when it started and ended (ms since the
 * epoch, 0 while running), its report's figures, and the last error.
 */
public record SyncStatus(String source, String name, String state, long startedMs, long endedMs, long scanned,
        long copiedFiles, long copiedBytes, long skipped, long conflicts, long failed, String error) {
}
