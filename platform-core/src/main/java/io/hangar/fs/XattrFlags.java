package io.hangar.fs;

/** Flags of setxattr(2), with their Linux values. */
public interface XattrFlags {
    /** Fail with EEXIST if the attribute exists. */
    int CREATE = 1;
    /** Fail with ENODATA if the attribute does not exist. */
    int REPLACE = 2;
    /**
     * Hangar's own, not a setxattr(2) flag: the change leaves the inode's ctime as it was. For markers the
     * runtime keeps on a node that do not change the file, such as the repository's freeze: a ctime recorded
     * before the marker then still proves the content unchanged. Frontends cannot pass it: the VFS refuses it
     * from callers with EINVAL, as the kernel would an unknown flag.
     */
    int KEEP_CTIME = 1 << 16;
}
