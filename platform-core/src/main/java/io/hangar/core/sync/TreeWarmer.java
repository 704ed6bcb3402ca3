package io.hangar.core.sync;

import io.hangar.fs.Attr;
import io.hangar.fs.DirEntry;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.vfs.Volume;
import java.util.List;

/** Warms every regular file under a path of a volume, one directory page in memory at a time. */
final class TreeWarmer {
    private final Volume volume;
    private long bytes;

    TreeWarmer(Volume volume) {
        this.volume = volume;
    }

    long warm(String path) throws FsException {
        Attr a = volume.resolve(path).attr();
        walk(a);
        return bytes;
    }

    private void walk(Attr a) throws FsException {
        if (a.type() == FileType.FILE) {
            bytes += volume.warm(a.inode());
            return;
        }
        if (a.type() != FileType.DIRECTORY) {
            return;
        }
        String after = null;
        for (List<DirEntry> page; !(page = volume.readdir(a.inode(), after, 1000, true)).isEmpty();
                after = page.get(page.size() - 1).name()) {
            for (DirEntry e : page) {
                walk(e.attr() != null ? e.attr() : volume.getattr(e.inode()));
            }
        }
    }
}
