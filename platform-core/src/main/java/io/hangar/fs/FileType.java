package io.hangar.fs;

/** The kinds of inode, with the S_IFMT bits they carry in a POSIX mode. */
public enum FileType {
    FILE(0100000), DIRECTORY(0040000), SYMLINK(0120000), FIFO(0010000), SOCKET(0140000),
    CHAR_DEVICE(0020000), BLOCK_DEVICE(0060000);

    private final int modeBits;

    FileType(int modeBits) {
        this.modeBits = modeBits;
    }

    public int modeBits() {
        return modeBits;
    }

    public static FileType fromMode(int mode) {
        int fmt = mode & 0170000;
        for (FileType t : values()) {
            if (t.modeBits == fmt) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown file type in mode " + Integer.toOctalString(mode));
    }
}
