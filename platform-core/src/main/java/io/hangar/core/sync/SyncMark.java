package io.hangar.core.sync;

import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.fs.XattrFlags;
import io.hangar.spi.meta.MetadataEngine;
import java.nio.charset.StandardCharsets;

/**
 * What a sync records on each node it applied ({@code hangar.sync}, set without moving ctime): the source
 * volume's uuid, the source node's inode and ctime (its content identity: every change of a file's data or
 * attributes moves its ctime), and the destination node's ctime right after the apply (so a change made at
 * the destination since is seen).
 */
record SyncMark(String source, long inode, long ctimeNs, long dstCtimeNs) {
    static SyncMark read(MetadataEngine m, long inode) throws FsException {
        byte[] v;
        try {
            v = m.getxattr(inode, SyncRun.RECORD_XATTR);
        } catch (FsException e) {
            if (e.errno() == Errno.ENODATA) {
                return null;
            }
            throw e;
        }
        String[] p = new String(v, StandardCharsets.UTF_8).split(" ");
        try {
            return p.length == 4 ? new SyncMark(p[0], Long.parseLong(p[1]), Long.parseLong(p[2]), Long.parseLong(p[3]))
                    : null;
        } catch (NumberFormatException e) {
            return null; // not ours after all: treated as a node sync did not write
        }
    }

    void write(MetadataEngine m, long at) throws FsException {
        m.setxattr(at, SyncRun.RECORD_XATTR,
                (source + " " + inode + " " + ctimeNs + " " + dstCtimeNs).getBytes(StandardCharsets.UTF_8),
                XattrFlags.KEEP_CTIME);
    }
}
