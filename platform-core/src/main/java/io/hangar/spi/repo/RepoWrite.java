package io.hangar.spi.repo;

/** One change of a commit: a put when {@code value} is not null, a delete (of a present or absent key) when it is. */
public record RepoWrite(String key, byte[] value) {
    public static RepoWrite put(String key, byte[] value) {
        if (value == null) {
            throw new IllegalArgumentException("a put needs a value");
        }
        return new RepoWrite(key, value);
    }

    public static RepoWrite delete(String key) {
        return new RepoWrite(key, null);
    }

    public boolean isDelete() {
        return value == null;
    }
}
