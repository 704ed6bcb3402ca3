package io.hangar.spi.repo;

/**
 * One stored record. {@code version} is the store's count of writes to this key since it was last absent:
 * 1 after the first put, raised by one by every put; a delete forgets it (the next put is 1 again).
 */
public record RepoRecord(String key, byte[] value, long version) {
}
