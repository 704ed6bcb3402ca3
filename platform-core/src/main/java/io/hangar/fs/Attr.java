package io.hangar.fs;

/**
 * The attributes of an inode. {@code mode} holds permission bits only (07777); the type is separate.
 * Times are nanoseconds since the epoch.
 */
public record Attr(long inode, FileType type, int mode, int uid, int gid, long nlink, long length,
        long atimeNs, long mtimeNs, long ctimeNs, int rdev, long parent) {

    /** The full POSIX st_mode: type bits and permission bits. */
    public int stMode() {
        return type.modeBits() | (mode & 07777);
    }

    public boolean isDirectory() {
        return type == FileType.DIRECTORY;
    }
}
