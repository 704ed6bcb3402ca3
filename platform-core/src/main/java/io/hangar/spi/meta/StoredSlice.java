package io.hangar.spi.meta;

/**
 * A slice whose blocks are in the chunk store, as {@link MetadataEngine#scanSlices} reports it: {@code refs}
 * records of files name it, or {@code refs == 0} when its last reference went and its blocks wait for
 * deletion.
 */
public record StoredSlice(long id, int size, long refs) {
    public SliceRef ref() {
        return new SliceRef(id, size);
    }

    public boolean pendingDelete() {
        return refs == 0;
    }
}
