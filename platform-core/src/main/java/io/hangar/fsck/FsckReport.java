package io.hangar.fsck;

/**
 * What fsck found. {@code problems} are the metadata engine's findings ({@code repaired} of them fixed);
 * {@code missingBlocks} and {@code badBlocks} (wrong length) are blocks of referenced slices the store does
 * not hold right; {@code leakedBlocks} ({@code leakedBytes}) are in the store with no slice naming them,
 * {@code youngLeakedBlocks} of them younger than {@link VolumeCheck#DEFAULT_GRACE} (possibly uploads in flight).
 */
public record FsckReport(long slices, long blocks, long pendingSlices, long problems, long repaired,
        long missingBlocks, long badBlocks, long leakedBlocks, long leakedBytes, long youngLeakedBlocks) {

    /** Nothing wrong: metadata consistent (or repaired), every block present, nothing leaked. */
    public boolean clean() {
        return consistent() && leakedBlocks == 0;
    }

    /** Metadata consistent after repairs and every referenced block present; leaked blocks allowed. */
    public boolean consistent() {
        return problems == repaired && missingBlocks == 0 && badBlocks == 0;
    }
}
