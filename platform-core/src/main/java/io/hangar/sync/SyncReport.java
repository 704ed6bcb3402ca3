package io.hangar.sync;

import java.util.List;

/**
 * What one sync did. {@code copiedBytes} are block bytes copied store to store (what the network carried);
 * {@code fileBytes} the lengths of the files applied at the destination; {@code warmedBytes} what the
 * destination's cache group fetched to warm them (with {@link SyncSpec#warmGroup}). {@code problems} holds the first
 * {@link #MAX_PROBLEMS} conflicts and failures, "path: why".
 */
public record SyncReport(long scanned, long copiedFiles, long fileBytes, long copiedBlocks, long copiedBytes,
        long skipped, long deleted, long conflicts, long failed, long records, long warmedBytes, long elapsedMs,
        List<String> problems) {
    public static final int MAX_PROBLEMS = 100;

    public boolean clean() {
        return conflicts == 0 && failed == 0;
    }
}
