package io.hangar.fs;

/**
 * One entry of a directory listing. {@code attr} is filled when attributes were asked for and may be null
 * otherwise.
 */
public record DirEntry(String name, long inode, FileType type, Attr attr) {
}
