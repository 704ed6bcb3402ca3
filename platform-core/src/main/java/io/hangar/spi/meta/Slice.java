package io.hangar.spi.meta;

/**
 * One slice record of a chunk: bytes {@code [off, off+len)} of the stored slice {@code id} (whose object
 * length is {@code size}) appear at position {@code pos} of the chunk. Records are kept in write order and
 * the newest wins where they overlap. {@code id == 0} is a hole: it reads as zeros (written by truncate).
 */
public record Slice(long id, int size, int off, int len, int pos) {
    public static Slice hole(int pos, int len) {
        return new Slice(0, len, 0, len, pos);
    }

    public boolean isHole() {
        return id == 0;
    }

    /** Exclusive end position in the chunk. */
    public int end() {
        return pos + len;
    }
}
