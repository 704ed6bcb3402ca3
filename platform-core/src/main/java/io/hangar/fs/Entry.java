package io.hangar.fs;

/** A name in a directory resolved to its inode, with the inode's attributes (one round trip for both). */
public record Entry(long parent, String name, Attr attr) {
    public long inode() {
        return attr.inode();
    }
}
