package io.hangar.fs;

/** Flags of setxattr(2), with their Linux values. */
public interface XattrFlags {
    /** Fail with EEXIST if the attribute exists. */
    int CREATE = 1;
    /** Fail with ENODATA if the attribute does not exist. */
    int REPLACE = 2;
}
