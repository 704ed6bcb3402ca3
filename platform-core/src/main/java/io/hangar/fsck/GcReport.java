package io.hangar.fsck;

/**
 * What gc deleted (or, in a dry run, would delete): the blocks of {@code pendingSlices} slices whose last
 * reference went ({@code pendingBlocks}), and {@code leakedBlocks} leaked blocks of {@code leakedBytes};
 * {@code keptYoung} leaked blocks were younger than the grace period and kept.
 */
public record GcReport(boolean dryRun, long pendingSlices, long pendingBlocks, long leakedBlocks, long leakedBytes,
        long keptYoung) {
}
