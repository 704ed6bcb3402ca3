package io.hangar.spi.repo;

/** A commit's precondition: the record {@code key} is at {@code version} now; version 0 means it is absent. */
public record RepoCondition(String key, long version) {
    public static RepoCondition absent(String key) {
        return new RepoCondition(key, 0);
    }
}
