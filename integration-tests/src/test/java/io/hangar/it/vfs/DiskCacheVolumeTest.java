package io.hangar.it.vfs;

import static io.hangar.it.vfs.VolumeFixture.readAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.core.cache.DiskBlockCache;
import io.hangar.core.vfs.VfsVolume;
import io.hangar.fs.Caller;
import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.fs.OpenFlags;
import io.hangar.vfs.FileHandle;
import io.hangar.vfs.Volume;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A volume with a disk block cache (SQLite metadata, file store): blocks a volume read are served to the next
 * volume on the same cache directory from disk (shown by removing them from the store: a volume without the
 * cache then fails to read, one with it reads the right bytes), written blocks are kept with
 * {@code cache-writes}, and a damaged cached block is read from the store again, never served.
 */
class DiskCacheVolumeTest {
    private static final int SIZE = 10 << 20; // three 4 MiB blocks, the last one partial

    @TempDir
    Path tmp;

    private VolumeFixture fx;
    private Path cache;
    private byte[] data;

    @BeforeEach
    void setUp() throws Exception {
        fx = new VolumeFixture(tmp.resolve("vol")).format("cached", Map.of());
        cache = tmp.resolve("cache");
        data = new byte[SIZE];
        new Random(7).nextBytes(data);
    }

    private Map<String, String> cached(boolean writes) {
        return Map.of("cache-dir", cache.toString(), "disk-cache-size", "1G", "free-space-ratio", "0",
                "cache-writes", Boolean.toString(writes));
    }

    private long writeFile(VfsVolume v) throws FsException {
        try (FileHandle h = v.create(Caller.ROOT, Volume.ROOT, "model.bin", 0644, OpenFlags.RDWR)) {
            h.write(0, data, 0, data.length);
            h.fsync();
            return h.inode();
        }
    }

    private static DiskBlockCache disk(VfsVolume v) throws InterruptedException {
        DiskBlockCache d = v.diskCache().orElseThrow();
        d.awaitScan();
        return d;
    }

    private void removeBlocksFromTheStore() throws IOException {
        try (Stream<Path> s = Files.walk(fx.dir.resolve("chunks").resolve("cached").resolve("chunks"))) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                Files.delete(p);
            }
        }
        assertEquals(0, fx.blockObjects());
    }

    private List<Path> cachedFiles() throws IOException {
        try (Stream<Path> s = Files.walk(cache.resolve("hangar-cache"))) {
            return s.filter(Files::isRegularFile).filter(p -> !p.toString().contains("/.tmp/"))
                    .filter(p -> !p.getFileName().toString().equals(DiskBlockCache.LOCK)).toList();
        }
    }

    @Test
    void blocksReadOnceAreServedFromDiskToTheNextVolume() throws Exception {
        long inode;
        try (VfsVolume v = fx.open()) {
            inode = writeFile(v);
        }
        try (VfsVolume v = fx.open(cached(false))) {
            DiskBlockCache d = disk(v);
            assertEquals(0, d.blocks(), "written without cache-writes: nothing on disk yet");
            assertArrayEquals(data, readAll(v, inode));
            d.awaitWrites();
            assertEquals(3, d.writes(), "the three blocks read were kept");
        }
        assertEquals(3, cachedFiles().size());
        removeBlocksFromTheStore();
        try (VfsVolume v = fx.open()) {
            FsException e = assertThrows(FsException.class, () -> readAll(v, inode));
            assertEquals(Errno.EIO, e.errno(), "without the cache the blocks are gone");
        }
        try (VfsVolume v = fx.open(cached(false))) {
            DiskBlockCache d = disk(v);
            assertEquals(3, d.blocks(), "the index was rebuilt from the directory");
            assertArrayEquals(data, readAll(v, inode));
            assertEquals(3, d.hits());
        }
    }

    @Test
    void writtenBlocksAreKeptWithCacheWrites() throws Exception {
        long inode;
        try (VfsVolume v = fx.open(cached(true))) {
            inode = writeFile(v);
            DiskBlockCache d = disk(v);
            d.awaitWrites();
            assertEquals(3, d.writes());
        }
        removeBlocksFromTheStore();
        try (VfsVolume v = fx.open(cached(true))) {
            assertArrayEquals(data, readAll(v, inode));
            assertEquals(3, disk(v).hits());
        }
    }

    @Test
    void aDamagedCachedBlockIsReadFromTheStoreAgain() throws Exception {
        long inode;
        try (VfsVolume v = fx.open(cached(true))) {
            inode = writeFile(v);
        }
        Path victim = cachedFiles().get(0);
        byte[] b = Files.readAllBytes(victim);
        b[b.length / 2] ^= 0x01;
        Files.write(victim, b);
        try (VfsVolume v = fx.open(cached(true))) {
            DiskBlockCache d = disk(v);
            assertArrayEquals(data, readAll(v, inode), "the right bytes, from the store");
            d.awaitWrites();
            assertEquals(1, d.corrupt());
            assertEquals(2, d.hits());
            assertEquals(1, d.writes(), "the damaged block was cached again");
        }
        assertEquals(3, cachedFiles().size());
        removeBlocksFromTheStore();
        try (VfsVolume v = fx.open(cached(true))) {
            assertArrayEquals(data, readAll(v, inode), "all three intact on disk again");
        }
    }

    @Test
    void warmFetchesAFileIntoTheDiskCacheWithoutReadingItAndEvictDropsIt() throws Exception {
        long inode;
        long dir;
        try (VfsVolume v = fx.open()) {
            inode = writeFile(v);
            dir = v.mkdir(Caller.ROOT, Volume.ROOT, "d", 0755).inode();
        }
        try (VfsVolume v = fx.open(cached(false))) {
            disk(v); // its index scanned
            assertEquals(SIZE, v.cacheState(inode).storedBytes());
            assertEquals(0, v.cacheState(inode).diskBytes());
            assertEquals(SIZE, v.warm(inode), "every byte fetched from the store");
            assertEquals(SIZE, v.cacheState(inode).diskBytes(), "on disk when warm returns");
            assertEquals(0, v.cacheState(inode).memoryBytes(), "a warm-up into the disk cache leaves memory alone");
            assertEquals(0, v.warm(inode), "nothing left to fetch");
            assertEquals(Errno.EISDIR, assertThrows(FsException.class, () -> v.warm(dir)).errno());
        }
        removeBlocksFromTheStore();
        try (VfsVolume v = fx.open(cached(false))) {
            assertArrayEquals(data, readAll(v, inode), "served from the warmed cache alone");
            assertEquals(SIZE, v.evict(inode));
            assertEquals(0, v.cacheState(inode).diskBytes());
            assertEquals(0, cachedFiles().size());
        }
    }

    @Test
    void withoutADiskCacheWarmFillsTheMemoryCache() throws Exception {
        long inode;
        try (VfsVolume v = fx.open()) {
            inode = writeFile(v);
        }
        try (VfsVolume v = fx.open()) {
            assertEquals(0, v.cacheState(inode).memoryBytes());
            assertEquals(SIZE, v.warm(inode));
            assertEquals(SIZE, v.cacheState(inode).memoryBytes());
            assertEquals(0, v.cacheState(inode).diskBytes());
            assertEquals(0, v.evict(inode), "no disk cache: nothing to drop");
        }
    }

    @Test
    void badCacheOptionsAreRefused() {
        for (Map<String, String> bad : List.of(Map.of("cache-dir", "relative/dir"),
                Map.of("cache-dir", cache.toString(), "free-space-ratio", "1.5"),
                Map.of("cache-dir", cache.toString(), "cache-writes", "maybe"),
                Map.of("cache-dir", cache.toString(), "disk-cache-size", "lots"))) {
            Exception e = assertThrows(Exception.class, () -> fx.open(bad).close(), bad.toString());
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), bad + ": " + e);
        }
    }
}
