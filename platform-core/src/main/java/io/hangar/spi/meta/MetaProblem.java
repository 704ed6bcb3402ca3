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
        /**
         * A directory's parent pointer, or a single-named node's, differs from where it is; a node with several
         * names reports a parent other than 0, or the engine's record of its names per directory is wrong.
         */
        PARENT,
        /**
         * An inode that no entry names and no session holds open (also one unlinked while open whose holders
         * are gone: nothing will release it).
         */
        ORPHAN_INODE,
        /** A slice's reference count differs from the records that name it. */
        REFERENCE_COUNT,
        /** A slice that records name is missing from the engine's slice index (or the index names a stray). */
        SLICE_INDEX,
        /** Used space or used inodes differ from what the files add up to. */
        USAGE,
        /**
         * A chunk record that cannot be valid (outside the chunk, past its slice, bad size, not a whole
         * record), or a chunk that belongs to no regular file or lies past its file's end.
         */
        BAD_RECORD
    }
}
