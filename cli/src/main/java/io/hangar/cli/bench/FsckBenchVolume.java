package io.hangar.cli.bench;

import io.hangar.fs.FileType;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.Slice;
import io.hangar.spi.meta.VolumeFormat;
import io.hangar.vfs.standalone.Volumes;
import java.io.RandomAccessFile;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * Builds a volume for bench/fsck-bench.sh as fast as possible: files made through the metadata engine, each
 * with one slice of 16 blocks, and the blocks written as sparse files of the right length straight into a
 * {@code file://} store's directory (fsck reads lengths from the listing, not bytes). Also leaves
 * {@code leaked} blocks no slice names.
 *
 * <p>Usage: {@code FsckBenchVolume META-URL STORE-DIR BLOCKS LEAKED}
 */
public final class FsckBenchVolume {
    private static final int BLOCK = 64 << 10;
    private static final int BLOCKS_PER_SLICE = 16;

    private FsckBenchVolume() {
    }

    public static void main(String[] args) throws Exception {
        String metaUrl = args[0];
        Path storeDir = Path.of(args[1]);
        long blocks = Long.parseLong(args[2]);
        int leaked = Integer.parseInt(args[3]);
        VolumeFormat f = Volumes.format(metaUrl, "fb", "file://" + storeDir, Map.of("block-size", Integer.toString(BLOCK)));
        long slices = (blocks + BLOCKS_PER_SLICE - 1) / BLOCKS_PER_SLICE;
        int sliceSize = BLOCK * BLOCKS_PER_SLICE;
        URI u = new URI(metaUrl);
        try (MetadataEngine m = ServiceLoader.load(io.hangar.spi.meta.MetadataEngineProvider.class).stream()
                .map(ServiceLoader.Provider::get).filter(p -> p.schemes().contains(u.getScheme())).findFirst()
                .orElseThrow().open(u)) {
            long dir = 0;
            for (long i = 0; i < slices; i++) {
                if (i % 1000 == 0) {
                    dir = m.mknod(MetadataEngine.ROOT, "d" + i / 1000, FileType.DIRECTORY, 0755, 0, 0, 0, null).inode();
                }
                long ino = m.mknod(dir, "f" + i, FileType.FILE, 0644, 0, 0, 0, null).inode();
                long id = m.newSliceIds(1);
                for (int b = 0; b < BLOCKS_PER_SLICE; b++) {
                    sparse(storeDir.resolve(key(f, id, b, BLOCK)), BLOCK);
                }
                m.writeSlice(ino, 0, new Slice(id, sliceSize, 0, sliceSize, 0), System.currentTimeMillis() * 1_000_000L);
            }
            long next = m.newSliceIds(1);
            for (int i = 0; i < leaked; i++) {
                sparse(storeDir.resolve(key(f, next + 10 + i, 0, BLOCK)), BLOCK);
            }
        }
        System.out.println("built " + slices + " files of one slice of " + BLOCKS_PER_SLICE + " blocks ("
                + slices * BLOCKS_PER_SLICE + " blocks) and " + leaked + " leaked blocks");
    }

    private static String key(VolumeFormat f, long id, int index, int len) {
        return f.name() + "/chunks/" + id / 1_000_000 + "/" + id / 1_000 + "/" + id + "_" + index + "_" + len;
    }

    private static void sparse(Path p, int len) throws Exception {
        Files.createDirectories(p.getParent());
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(len);
        }
    }
}
