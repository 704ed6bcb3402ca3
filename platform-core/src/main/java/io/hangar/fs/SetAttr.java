package io.hangar.fs;

/**
 * A change of attributes: each field that is null stays as it is. {@code size} is a truncate and is applied
 * by the VFS, not by {@code MetadataEngine#setattr}. Times may be {@link #NOW} to mean "the engine's clock".
 */
public record SetAttr(Integer mode, Integer uid, Integer gid, Long size, Long atimeNs, Long mtimeNs,
        Long ctimeNs) {
    /** A time value meaning "now". */
    public static final long NOW = Long.MIN_VALUE;

    public static SetAttr mode(int mode) {
        return new SetAttr(mode, null, null, null, null, null, null);
    }

    public static SetAttr owner(Integer uid, Integer gid) {
        return new SetAttr(null, uid, gid, null, null, null, null);
    }

    public static SetAttr size(long size) {
        return new SetAttr(null, null, null, size, null, null, null);
    }

    public static SetAttr times(Long atimeNs, Long mtimeNs) {
        return new SetAttr(null, null, null, null, atimeNs, mtimeNs, null);
    }

    public SetAttr withoutSize() {
        return new SetAttr(mode, uid, gid, null, atimeNs, mtimeNs, ctimeNs);
    }
}
