package io.hangar.meta.sqlite;

import io.hangar.fs.FileType;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.Slice;
import java.nio.file.Path;

/**
 * The victim of {@link SqliteMetadataEngineTest#aKilledWriterLosesNothingItReportedCommitted}: creates files
 * with a slice each on an already formatted volume and prints each name once its transaction returned,
 * until it is killed. Bounded, in case nobody kills it.
 */
public final class CrashWriter {
    private CrashWriter() {
    }

    public static void main(String[] args) throws Exception {
        try (MetadataEngine meta = SqliteMetadataEngine.open(Path.of(args[0]))) {
            for (int i = 0; i < 100_000; i++) {
                String name = "f" + i;
                long inode = meta.mknod(MetadataEngine.ROOT, name, FileType.FILE, 0644, 0, 0, 0, null).inode();
                meta.writeSlice(inode, 0, new Slice(meta.newSliceIds(1), 4096, 0, 4096, 0), 1L);
                System.out.println(name);
                System.out.flush();
            }
        }
    }
}
