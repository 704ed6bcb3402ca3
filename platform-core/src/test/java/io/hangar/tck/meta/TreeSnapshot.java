package io.hangar.tck.meta;

import io.hangar.fs.Attr;
import io.hangar.fs.DirEntry;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.Slice;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Everything an engine holds about a directory tree, read through the public API only: one {@link Node} per
 * path (a hard-linked inode appears under each of its names). Two snapshots compare equal exactly when
 * nothing observable changed, which is how the kit checks that a failed operation left no trace and that
 * state survives a reopen.
 */
public record TreeSnapshot(SortedMap<String, Node> nodes) {

    /** One path: its inode's attributes, symlink target, xattrs (hex values) and slice records per chunk. */
    public record Node(long inode, FileType type, int mode, int uid, int gid, long nlink, long length,
            long atimeNs, long mtimeNs, long ctimeNs, int rdev, String target, Map<String, String> xattrs,
            Map<Integer, List<Slice>> chunks) {

        /** The node without identity, ownership and change time: what a clone must reproduce. */
        public String shape() {
            return type + " mode=" + Integer.toOctalString(mode) + " nlink=" + nlink + " length=" + length
                    + " mtime=" + mtimeNs + " rdev=" + rdev + " target=" + target + " xattrs=" + xattrs
                    + " chunks=" + chunks;
        }
    }

    /** Walks the tree below {@code root} ({@code "/"} is root itself); chunk boundaries come from {@code chunkSize}. */
    public static TreeSnapshot of(MetadataEngine meta, long root, int chunkSize) throws FsException {
        SortedMap<String, Node> out = new TreeMap<>();
        walk(meta, root, "/", chunkSize, out);
        return new TreeSnapshot(Collections.unmodifiableSortedMap(out));
    }

    private static void walk(MetadataEngine meta, long inode, String path, int chunkSize,
            SortedMap<String, Node> out) throws FsException {
        Attr a = meta.getattr(inode);
        out.put(path, node(meta, a, chunkSize));
        if (!a.isDirectory()) {
            return;
        }
        for (DirEntry e : list(meta, inode)) {
            walk(meta, e.inode(), (path.equals("/") ? "/" : path + "/") + e.name(), chunkSize, out);
        }
    }

    /** Every entry of a directory, page by page; fails if a page does not move past its cursor. */
    public static List<DirEntry> list(MetadataEngine meta, long dir) throws FsException {
        List<DirEntry> all = new ArrayList<>();
        String after = null;
        while (true) {
            List<DirEntry> page = meta.readdir(dir, after, 500, false);
            if (page.isEmpty()) {
                return all;
            }
            String last = page.get(page.size() - 1).name();
            if (after != null && compareBytes(last, after) <= 0) {
                throw new AssertionError("readdir after '" + after + "' returned '" + last + "': the cursor did not move");
            }
            all.addAll(page);
            after = last;
        }
    }

    /** Name order as engines list it: UTF-8 bytes, unsigned. */
    public static int compareBytes(String a, String b) {
        return Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    private static Node node(MetadataEngine meta, Attr a, int chunkSize) throws FsException {
        String target = a.type() == FileType.SYMLINK ? meta.readlink(a.inode()) : null;
        Map<String, String> xattrs = new TreeMap<>();
        for (String name : meta.listxattr(a.inode())) {
            xattrs.put(name, HexFormat.of().formatHex(meta.getxattr(a.inode(), name)));
        }
        Map<Integer, List<Slice>> chunks = new LinkedHashMap<>();
        if (a.type() == FileType.FILE) {
            long count = (a.length() + chunkSize - 1) / chunkSize;
            for (int i = 0; i < count; i++) {
                List<Slice> slices = meta.readChunk(a.inode(), i);
                if (!slices.isEmpty()) {
                    chunks.put(i, List.copyOf(slices));
                }
            }
        }
        return new Node(a.inode(), a.type(), a.mode(), a.uid(), a.gid(), a.nlink(), a.length(), a.atimeNs(),
                a.mtimeNs(), a.ctimeNs(), a.rdev(), target, xattrs, chunks);
    }

    /** The paths and shapes below the snapshot's root, for comparing a cloned tree with its source. */
    public Map<String, String> shapes() {
        Map<String, String> m = new TreeMap<>();
        nodes.forEach((path, n) -> m.put(path, n.shape()));
        return m;
    }

    /** True if no path of the snapshot resolves to {@code inode}. */
    public boolean lacks(long inode) {
        return nodes.values().stream().noneMatch(n -> n.inode() == inode);
    }
}
