package io.hangar.core.layout;

/**
 * A visible run of a chunk after merging its slices: {@code len} bytes at chunk position {@code pos} come from
 * offset {@code sliceOff} of stored slice {@code sliceId} (object length {@code sliceSize}); sliceId 0 reads
 * as zeros.
 */
public record Segment(int pos, int len, long sliceId, int sliceSize, int sliceOff) {
    public int end() {
        return pos + len;
    }

    public boolean isZero() {
        return sliceId == 0;
    }
}
