package io.hangar.frontend.fuse;

import io.hangar.fs.DirEntry;
import io.hangar.fs.FsException;
import io.hangar.vfs.Volume;
import java.util.ArrayList;
import java.util.List;

/**
 * One opendir of a directory: entry {@code i} is the {@code i}-th name of this stream, so a FUSE offset (or
 * a telldir cookie) stays valid for as long as the directory is open, however large it is. Entries are read
 * in batches with the VFS name cursor; only the current batch and the cursor of every batch start are kept
 * (about one name per {@value #BATCH} entries), so memory does not grow with the directory.
 *
 * <p>Reading on from where the last read stopped always continues from a name cursor: entries created or
 * removed meanwhile never make an unchanged entry show twice or not at all. Only a seek back into an earlier
 * batch re-reads that batch, where concurrent changes may shift positions, which POSIX leaves unspecified.
 */
public final class DirStream {
    static final int BATCH = 512;

    private final Volume volume;
    private final long inode;
    private final boolean withAttributes;
    /** cursors.get(b): the name the batch b starts after (null for the first batch). */
    private final List<String> cursors = new ArrayList<>();
    private List<DirEntry> batch = List.of();
    private int batchIndex = -1;
    /** Number of entries in the stream once its end was seen, else -1. */
    private long size = -1;

    public DirStream(Volume volume, long inode) {
        this(volume, inode, false);
    }

    /** With {@code withAttributes} the entries carry their attributes (for READDIRPLUS). */
    public DirStream(Volume volume, long inode, boolean withAttributes) {
        this.volume = volume;
        this.inode = inode;
        this.withAttributes = withAttributes;
        cursors.add(null);
    }

    public long inode() {
        return inode;
    }

    /** Entry {@code index} of this stream, or null past its end. */
    public synchronized DirEntry get(long index) throws FsException {
        if (size >= 0 && index >= size) {
            return null;
        }
        int b = (int) (index / BATCH);
        while (b >= cursors.size()) {
            // The batches before b were never read: read forward to learn where b starts.
            load(cursors.size() - 1);
            if (size >= 0 && index >= size) {
                return null;
            }
        }
        if (b != batchIndex) {
            load(b);
        }
        int i = (int) (index % BATCH);
        return i < batch.size() ? batch.get(i) : null;
    }

    /** Reads batch b; a short batch marks the end of the stream. */
    private void load(int b) throws FsException {
        List<DirEntry> list = volume.readdir(inode, cursors.get(b), BATCH, withAttributes);
        batch = list;
        batchIndex = b;
        if (list.size() < BATCH) {
            size = (long) b * BATCH + list.size();
        } else if (b + 1 == cursors.size()) {
            cursors.add(list.get(list.size() - 1).name());
        }
    }
}
