package io.hangar.spi.meta;

/**
 * One inconsistency that {@link MetadataEngine#check} found in an engine's own records. {@code what} is one
 * line naming the inode, entry or slice; {@code repaired} says whether the check fixed it.
 */
public record MetaProblem(Kind kind, String what, boolean repaired) {
    public enum Kind {
        /** A directory entry names an inode that does not exist. */
        DANGLING_ENTRY,
        /** A directory entry's type differs from its inode's. */
        ENTRY_TYPE,
        /** An inode's link count differs from its names (directories: 2 + subdirectories). */
        LINK_COUNT,
        /** A directory's parent pointer, or a single-named node's, differs from where it is. */
        PARENT,
        /** An inode that no entry names and no session holds open. */
        ORPHAN_INODE,
        /** A slice's reference count differs from the records that name it. */
        REFERENCE_COUNT,
        /** A slice that records name is missing from the engine's slice index (or the index names a stray). */
        SLICE_INDEX,
        /** Used space or used inodes differ from what the files add up to. */
        USAGE,
        /** A chunk record that cannot be valid (outside the chunk, past its slice, bad size). */
        BAD_RECORD
    }
}
