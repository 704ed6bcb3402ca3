package io.hangar.fs;

/** open(2) flags with their Linux values. */
public interface OpenFlags {
    int ACCMODE = 03;
    int RDONLY = 0;
    int WRONLY = 01;
    int RDWR = 02;
    int CREAT = 0100;
    int EXCL = 0200;
    int TRUNC = 01000;
    int APPEND = 02000;

    static boolean writable(int flags) {
        return (flags & ACCMODE) != RDONLY;
    }
}
