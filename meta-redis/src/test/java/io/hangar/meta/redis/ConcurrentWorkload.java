package io.hangar.meta.redis;

import io.hangar.fs.Entry;
import io.hangar.fs.Errno;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.fs.RenameFlags;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.Slice;
import java.net.URI;
import java.util.Random;

/**
 * Random namespace mutations over a small set of overlapping names in one directory: creates, mkdirs,
 * renames (plain, NOREPLACE, EXCHANGE, across subdirectories), hard links, unlinks, rmdirs, writes and
 * clones. POSIX verdicts (EEXIST, ENOENT, ENOTEMPTY…) are expected and ignored; anything else fails. Run
 * in-process or as its own JVM ({@link #main}) so that two clients race on the same directory.
 */
final class ConcurrentWorkload {
    private ConcurrentWorkload() {
    }

    /** Returns the number of mutations the engine accepted. */
    static int run(MetadataEngine m, long dir, int ops, long seed) throws FsException {
        Random r = new Random(seed);
        int applied = 0;
        for (int i = 0; i < ops; i++) {
            String a = "n" + r.nextInt(12);
            String b = "n" + r.nextInt(12);
            try {
                switch (r.nextInt(10)) {
                    case 0, 1 -> m.mknod(dir, a, FileType.FILE, 0644, 0, 0, 0, null);
                    case 2 -> m.mknod(dir, a, FileType.DIRECTORY, 0755, 0, 0, 0, null);
                    case 3 -> m.rename(dir, a, dir, b, r.nextInt(3) == 0 ? RenameFlags.NOREPLACE : 0);
                    case 4 -> m.rename(dir, a, dir, b, RenameFlags.EXCHANGE);
                    case 5 -> {
                        // Into or out of a sibling directory, so parents and link counts change too.
                        Entry d = m.lookup(dir, b);
                        if (r.nextBoolean()) {
                            m.rename(dir, a, d.inode(), a, 0);
                        } else {
                            m.rename(d.inode(), a, dir, a, 0);
                        }
                    }
                    case 6 -> m.link(m.lookup(dir, a).inode(), dir, b);
                    case 7 -> m.unlink(dir, a);
                    case 8 -> m.rmdir(dir, a);
                    default -> {
                        Entry e = m.lookup(dir, a);
                        if (r.nextBoolean()) {
                            m.writeSlice(e.inode(), 0, new Slice(m.newSliceIds(1), 5000, 0, 5000, r.nextInt(1000)), i);
                        } else {
                            m.clone(e.inode(), dir, b, 0, 0);
                        }
                    }
                }
                applied++;
            } catch (FsException e) {
                if (!expected(e.errno())) {
                    throw e;
                }
            }
        }
        return applied;
    }

    private static boolean expected(Errno e) {
        return switch (e) {
            case EEXIST, ENOENT, ENOTEMPTY, ENOTDIR, EISDIR, EPERM, EINVAL -> true;
            default -> false;
        };
    }

    /** Args: metadata URL, directory inode, ops, seed. Prints "applied N" on success. */
    public static void main(String[] args) throws Exception {
        try (MetadataEngine m = new RedisMetadataEngineProvider().open(URI.create(args[0]))) {
            int n = run(m, Long.parseLong(args[1]), Integer.parseInt(args[2]), Long.parseLong(args[3]));
            System.out.println("applied " + n);
        }
    }
}
