package io.hangar.fs;

/**
 * Capacity and usage of a volume. A capacity of 0 means "no limit configured"; frontends then report a
 * large virtual size.
 */
public record StatFs(long capacityBytes, long usedBytes, long inodeLimit, long usedInodes) {
}
