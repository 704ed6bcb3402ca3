package io.hangar.it.vfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.core.vfs.StoreGate;
import io.hangar.core.vfs.VfsOptions;
import io.hangar.core.vfs.VfsVolume;
import io.hangar.fs.Caller;
import io.hangar.fs.OpenFlags;
import io.hangar.meta.sqlite.SqliteMetadataEngine;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.VolumeFormat;
import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.store.ListPage;
import io.hangar.spi.store.ObjectInfo;
import io.hangar.spi.store.StoreException;
import io.hangar.store.file.FileChunkStoreProvider;
import io.hangar.vfs.FileHandle;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-stream read-ahead: a sequential reader gets every block from the store once, even when the file
 * is much larger than the block cache and its reads arrive out of order; read-ahead memory is given back, and
 * none of what it fetched for bytes that were read counts as wasted; a read elsewhere in the file does not
 * wait for blocks fetched ahead.
 */
class ReadAheadTest {
    @TempDir
    Path dir;

    /** A store that counts the gets of each key (and which pool made them), and can hold gets back. */
    static final class CountingStore implements ChunkStore {
        final ChunkStore inner;
        final Map<String, AtomicInteger> gets = new ConcurrentHashMap<>();
        final AtomicInteger aheadGets = new AtomicInteger();
        volatile CountDownLatch holdAhead;

        CountingStore(ChunkStore inner) {
            this.inner = inner;
        }

        @Override
        public String describe() {
            return inner.describe();
        }

        @Override
        public void put(String key, byte[] data, int off, int len) throws StoreException {
            inner.put(key, data, off, len);
        }

        @Override
        public byte[] get(String key, long offset, int length) throws StoreException {
            if (key.contains("/chunks/")) {
                gets.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
                if (Thread.currentThread().getName().contains("read-ahead")) {
                    aheadGets.incrementAndGet();
                    CountDownLatch hold = holdAhead;
                    if (hold != null) {
                        try {
                            hold.await(); // until the test lets go, or the volume closes (interrupt)
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new StoreException(StoreException.Kind.INVALID, "interrupted");
                        }
                    }
                }
            }
            return inner.get(key, offset, length);
        }

        @Override
        public ObjectInfo head(String key) throws StoreException {
            return inner.head(key);
        }

        @Override
        public void delete(String key) throws StoreException {
            inner.delete(key);
        }

        @Override
        public ListPage list(String prefix, String startAfter, int limit) throws StoreException {
            return inner.list(prefix, startAfter, limit);
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    private byte[] data;
    private CountingStore store;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private double counted(String name) {
        return registry.find(name).counter().count();
    }

    /** A fresh volume instance (nothing cached) on a file of {@code mib} MiB written by another instance. */
    private VfsVolume volumeWithFile(int mib, Map<String, String> options) throws Exception {
        VolumeFixture fx = new VolumeFixture(dir).format("ra", Map.of());
        data = new byte[mib << 20];
        new Random(7).nextBytes(data);
        try (VfsVolume writer = fx.open()) {
            VolumeFixture.writeFile(writer, "model.bin", data);
        }
        MetadataEngine meta = SqliteMetadataEngine.open(dir.resolve("meta.db"));
        VolumeFormat format = meta.load().orElseThrow();
        store = new CountingStore(new FileChunkStoreProvider().open(URI.create(fx.storeUrl)));
        VfsOptions opts = VfsOptions.parse(options);
        return new VfsVolume(format, meta, new StoreGate(store, opts.storeWaitMs()), opts, meta::close, registry);
    }

    /** The 64 MiB file read whole, every one of its 16 blocks from the store once, some of them ahead. */
    private void assertReadOnceEachWithSomeAhead(VfsVolume v, byte[] got) {
        assertArrayEquals(data, got);
        assertEquals(16, store.gets.size(), "a 64 MiB file is 16 blocks of 4 MiB");
        store.gets.forEach((k, n) -> assertEquals(1, n.get(), k + " fetched " + n + " times"));
        assertTrue(store.aheadGets.get() > 0, "blocks were fetched ahead of the reader");
        assertEquals(0, v.readAheadBytes(), "closed streams hold no read-ahead memory");
        assertEquals(0, counted("hangar_vfs_readahead_wasted"), "read-ahead wasted bytes the reader read");
    }

    @Test
    void aSequentialReaderFetchesEachBlockOnceThoughTheFileIsFourTimesTheCache() throws Exception {
        readOnOneHandle((h, got) -> {
            for (int off = 0; off < got.length;) {
                off += h.read(off, got, off, Math.min(1 << 20, got.length - off));
            }
        });
    }

    /** How a test reads the whole file into {@code got} on one handle. */
    interface HandleReads {
        void read(FileHandle h, byte[] got) throws Exception;
    }

    /**
     * Reads the 64 MiB file on one handle of a fresh volume whose cache (16 MiB) is a quarter of it, as
     * {@code reads} does, and checks what {@link #assertReadOnceEachWithSomeAhead} checks.
     */
    private void readOnOneHandle(HandleReads reads) throws Exception {
        try (VfsVolume v = volumeWithFile(64, Map.of("cache-size", "16M", "buffer-size", "64M",
                "read-ahead", "16M"))) {
            long ino = v.resolve("/model.bin").inode();
            byte[] got = new byte[data.length];
            try (FileHandle h = v.open(Caller.ROOT, ino, OpenFlags.RDONLY)) {
                reads.read(h, got);
            }
            assertReadOnceEachWithSomeAhead(v, got);
        }
    }

    /**
     * Ranged reads side by side (a parallel download: 8 MiB ranges of 4 MiB blocks, each on a handle of its
     * own): announced with readRange, each range fetches ahead from its first read and never past its end,
     * so every block comes from the store once (without it, each range's window ran into the next range,
     * whose reader fetched those blocks again).
     */
    @Test
    void rangedReadsFetchAheadInsideTheirRangesOnly() throws Exception {
        try (VfsVolume v = volumeWithFile(64, Map.of("cache-size", "64M", "buffer-size", "64M",
                "read-ahead", "32M"))) {
            long ino = v.resolve("/model.bin").inode();
            byte[] got = new byte[data.length];
            int range = 8 << 20;
            for (int start = 0; start < got.length; start += range) {
                try (FileHandle h = v.open(Caller.ROOT, ino, OpenFlags.RDONLY)) {
                    h.readRange(start, start + range);
                    for (int off = start; off < start + range;) {
                        off += h.read(off, got, off, Math.min(1 << 20, start + range - off));
                    }
                }
            }
            assertReadOnceEachWithSomeAhead(v, got);
        }
    }

    /**
     * A sequential reader taking block memory in place (readView, as the FUSE frontend does): its first read
     * starts the window before that read's own block is fetched, so the window holds the first block too, and
     * the reader's later reads of it still find it there (it was dropped once the bytes the window was
     * fetched for had been counted, with the first read's counted too, and fetched again).
     */
    @Test
    void aReaderOfBlockViewsFetchesEachBlockOnce() throws Exception {
        int mib = 1 << 20;
        readOnOneHandle((h, got) -> {
            for (int off = 0; off < got.length; off += mib) {
                int at = off;
                assertEquals(mib, h.readView(at, mib, view -> view.get(got, at, view.remaining())));
            }
        });
    }

    /**
     * Reads of one stream that arrive out of order, as FUSE's worker threads deliver the kernel's read-ahead
     * requests (each 1 MiB read up to 7 MiB early or late): every block still comes from the store once, and
     * read-ahead counts as wasted only bytes it fetched and nobody read.
     */
    @Test
    void readsOutOfOrderFetchEachBlockOnceAndWasteNothing() throws Exception {
        int mib = 1 << 20;
        java.util.List<Integer> order = new java.util.ArrayList<>();
        Random shuffle = new Random(11);
        for (int from = 0; from < 64; from += 8) {
            java.util.List<Integer> group = new java.util.ArrayList<>();
            for (int i = from; i < from + 8; i++) {
                group.add(i);
            }
            java.util.Collections.shuffle(group, shuffle);
            order.addAll(group);
        }
        readOnOneHandle((h, got) -> {
            for (int i : order) {
                assertEquals(mib, h.read((long) i * mib, got, i * mib, mib));
            }
        });
    }

    /**
     * Read-ahead memory for two blocks (half of the smallest write budget, 16 MiB) under a window of 32 MiB:
     * each refill stops where the memory does, and the next read's refill resumes there, so every block of a
     * sequential reader still comes through its read-ahead (the window used to move on as if it had fetched
     * what it had no memory for, and those blocks were read on demand).
     */
    @Test
    void aWindowShortOfMemoryResumesWhereItStopped() throws Exception {
        try (VfsVolume v = volumeWithFile(64, Map.of("cache-size", "16M", "buffer-size", "16M",
                "read-ahead", "32M"))) {
            long ino = v.resolve("/model.bin").inode();
            byte[] got = new byte[data.length];
            try (FileHandle h = v.open(Caller.ROOT, ino, OpenFlags.RDONLY)) {
                for (int off = 0; off < got.length; off += 1 << 20) {
                    int at = off; // as the FUSE frontend reads: its first read starts the window
                    assertEquals(1 << 20, h.readView(at, 1 << 20, view -> view.get(got, at, view.remaining())));
                }
            }
            assertArrayEquals(data, got);
            assertEquals(data.length, counted("hangar_vfs_readahead_fetched"),
                    "every block came through the stream's read-ahead");
        }
    }

    /**
     * A reader that skips through the file (64 KiB at the start of every other block from the second, each
     * read a window's length from the last) is no sequence, however far out of order FUSE may deliver a
     * sequence's reads: the blocks it skips never come from the store. (A first read at offset 0 starts a
     * window at once: that is how a sequential reader begins.)
     */
    @Test
    void aReaderThatSkipsThroughTheFileIsNotReadAhead() throws Exception {
        try (VfsVolume v = volumeWithFile(64, Map.of("cache-size", "16M", "buffer-size", "64M",
                "read-ahead", "16M"))) {
            long ino = v.resolve("/model.bin").inode();
            int block = 4 << 20;
            byte[] b = new byte[64 << 10];
            try (FileHandle h = v.open(Caller.ROOT, ino, OpenFlags.RDONLY)) {
                for (int i = 1; i < 16; i += 2) {
                    assertEquals(b.length, h.read((long) i * block, b, 0, b.length));
                    assertArrayEquals(java.util.Arrays.copyOfRange(data, i * block, i * block + b.length), b);
                }
            }
            assertEquals(8, store.gets.size(), "only the 8 blocks read were fetched: " + store.gets.keySet());
            assertEquals(0, store.aheadGets.get(), "nothing was fetched ahead");
        }
    }

    @Test
    void readViewHandsOverBytesOfOneBlockAndRefusesWhatIsNot() throws Exception {
        try (VfsVolume v = volumeWithFile(9, Map.of())) {
            long ino = v.resolve("/model.bin").inode();
            try (FileHandle h = v.open(Caller.ROOT, ino, OpenFlags.RDONLY)) {
                byte[][] got = new byte[1][];
                int n = h.readView(1 << 20, 1 << 20, view -> {
                    got[0] = new byte[view.remaining()];
                    view.get(got[0]);
                });
                assertEquals(1 << 20, n);
                assertArrayEquals(java.util.Arrays.copyOfRange(data, 1 << 20, 2 << 20), got[0]);
                FileHandle.ViewReader never = view -> {
                    throw new AssertionError("called for a range that is not one block's");
                };
                assertEquals(-1, h.readView((4 << 20) - 100, 200, never), "across a block boundary");
                assertEquals(0, h.readView(data.length, 100, never), "at the end");
                int tail = h.readView(data.length - 10, 100, view -> got[0] = new byte[view.remaining()]);
                assertEquals(10, tail, "cut at the end of the file");
            }
            // A hole (past the end, made by a truncate that grows the file) is not a block's.
            io.hangar.fs.SetAttr grow = io.hangar.fs.SetAttr.size(data.length + (1L << 20));
            v.setattr(Caller.ROOT, ino, grow);
            try (FileHandle h = v.open(Caller.ROOT, ino, OpenFlags.RDONLY)) {
                assertEquals(-1, h.readView(data.length + 100, 100, view -> {
                    throw new AssertionError("called for a hole");
                }));
            }
        }
    }

    /** Read-ahead's fetches hang in the store: a read elsewhere must still complete (or the test times out). */
    @Test
    @Timeout(120)
    void aDemandReadDoesNotWaitForBlocksFetchedAhead() throws Exception {
        try (VfsVolume v = volumeWithFile(64, Map.of("cache-size", "16M", "buffer-size", "128M",
                "read-ahead", "32M", "read-threads", "2"))) {
            long ino = v.resolve("/model.bin").inode();
            store.holdAhead = new CountDownLatch(1);
            try (FileHandle seq = v.open(Caller.ROOT, ino, OpenFlags.RDONLY);
                    FileHandle random = v.open(Caller.ROOT, ino, OpenFlags.RDONLY)) {
                byte[] b = new byte[1 << 20];
                // The first block is fetched on demand; read-ahead then fills both of its threads with gets
                // that are held back.
                seq.read(0, b, 0, b.length);
                seq.read(b.length, b, 0, b.length);
                int at = 56 << 20;
                assertEquals(b.length, random.read(at, b, 0, b.length),
                        "read elsewhere while read-ahead is stuck");
                assertArrayEquals(java.util.Arrays.copyOfRange(data, at, at + b.length), b);
            } finally {
                store.holdAhead.countDown();
            }
        }
    }
}
