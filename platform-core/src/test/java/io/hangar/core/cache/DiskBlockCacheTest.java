package io.hangar.core.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The disk block cache on real directories: read-back of what was written, damaged files dropped (never
 * served), LRU eviction within the size, the free-space floor, keys spread over several directories, and the
 * index rebuilt by a fresh instance from what the directories hold.
 */
class DiskBlockCacheTest {
    private static final String UUID = "0d5e4b7c-volume";
    private static final int BLOCK = 64 << 10;
    private static final long ENTRY = BLOCK + 8; // block + trailer

    @TempDir
    Path tmp;

    private static byte[] block(int seed) {
        byte[] b = new byte[BLOCK];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static String key(int i) {
        return "vol/chunks/0/" + i + "/" + i + "_0_" + BLOCK;
    }

    private static byte[] read(DiskBlockCache c, String key) {
        ByteBuffer dst = ByteBuffer.allocateDirect(BLOCK);
        if (!c.read(key, dst, BLOCK)) {
            return null;
        }
        byte[] out = new byte[BLOCK];
        dst.get(0, out);
        return out;
    }

    private DiskBlockCache open(long capacity, Path... dirs) throws Exception {
        DiskBlockCache c = new DiskBlockCache(List.of(dirs), capacity, 0, UUID);
        c.awaitScan();
        return c;
    }

    private Path file(Path dir, String key) {
        return dir.resolve("hangar-cache").resolve(UUID).resolve(key);
    }

    @Test
    void aWrittenBlockReadsBackWithTheSameBytes() throws Exception {
        Path d = tmp.resolve("c");
        try (DiskBlockCache c = open(1 << 20, d)) {
            assertEquals(null, read(c, key(1)), "nothing cached yet");
            c.write(key(1), ByteBuffer.wrap(block(1)));
            assertArrayEquals(block(1), read(c, key(1)));
            assertEquals(1, c.hits());
            assertEquals(1, c.misses());
            assertEquals(ENTRY, c.usedBytes());
            assertEquals(ENTRY, Files.size(file(d, key(1))));
        }
    }

    @Test
    void aDamagedBlockIsDroppedNotServed() throws Exception {
        Path d = tmp.resolve("c");
        try (DiskBlockCache c = open(1 << 20, d)) {
            c.write(key(1), ByteBuffer.wrap(block(1)));
            c.write(key(2), ByteBuffer.wrap(block(2)));
            c.write(key(3), ByteBuffer.wrap(block(3)));
            byte[] bad = Files.readAllBytes(file(d, key(1)));
            bad[1234] ^= 0x40; // one flipped bit in the data
            Files.write(file(d, key(1)), bad);
            byte[] cut = Files.readAllBytes(file(d, key(2)));
            Files.write(file(d, key(2)), java.util.Arrays.copyOf(cut, cut.length - 100)); // a torn write
            byte[] trailer = Files.readAllBytes(file(d, key(3)));
            trailer[trailer.length - 1] ^= 1; // the magic
            Files.write(file(d, key(3)), trailer);

            for (int i = 1; i <= 3; i++) {
                assertEquals(null, read(c, key(i)), "damaged block " + i + " is not served");
                assertFalse(Files.exists(file(d, key(i))), "and its file is gone");
            }
            assertEquals(3, c.corrupt());
            assertEquals(0, c.usedBytes());
            c.write(key(1), ByteBuffer.wrap(block(1)));
            assertArrayEquals(block(1), read(c, key(1)), "cached again once fetched again");
        }
    }

    @Test
    void theLeastRecentlyUsedBlockIsEvictedFirst() throws Exception {
        Path d = tmp.resolve("c");
        try (DiskBlockCache c = open(3 * ENTRY, d)) {
            for (int i = 1; i <= 3; i++) {
                c.write(key(i), ByteBuffer.wrap(block(i)));
            }
            assertArrayEquals(block(1), read(c, key(1))); // 2 is now the least recently used
            c.write(key(4), ByteBuffer.wrap(block(4)));
            assertEquals(null, read(c, key(2)));
            assertFalse(Files.exists(file(d, key(2))));
            for (int i : new int[] {1, 3, 4}) {
                assertArrayEquals(block(i), read(c, key(i)));
            }
            assertEquals(1, c.evictions());
            assertEquals(3 * ENTRY, c.usedBytes());
        }
    }

    @Test
    void aBlockLargerThanTheCacheIsNotKept() throws Exception {
        try (DiskBlockCache c = open(ENTRY - 1, tmp.resolve("c"))) {
            c.write(key(1), ByteBuffer.wrap(block(1)));
            assertEquals(null, read(c, key(1)));
            assertEquals(0, c.usedBytes());
        }
    }

    @Test
    void nothingIsWrittenBelowTheFreeSpaceFloor() throws Exception {
        Path d = tmp.resolve("c");
        // No disk here has 99.99% of itself free: every write would cross the floor.
        try (DiskBlockCache c = new DiskBlockCache(List.of(d), 1 << 30, 0.9999, UUID)) {
            c.awaitScan();
            c.write(key(1), ByteBuffer.wrap(block(1)));
            assertEquals(null, read(c, key(1)));
            assertFalse(Files.exists(file(d, key(1))));
        }
    }

    @Test
    void keysAreSpreadOverTheDirectoriesAndEachKeepsItsShare() throws Exception {
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        try (DiskBlockCache c = open(40 * ENTRY, a, b)) {
            for (int i = 0; i < 40; i++) {
                c.write(key(i), ByteBuffer.wrap(block(i)));
            }
            long inA = count(a);
            long inB = count(b);
            assertTrue(inA > 0 && inB > 0, "both directories hold blocks: " + inA + ", " + inB);
            assertTrue(inA <= 20 && inB <= 20, "neither more than its half: " + inA + ", " + inB);
            for (int i = 0; i < 40; i++) {
                byte[] got = read(c, key(i));
                if (got != null) {
                    assertArrayEquals(block(i), got);
                }
            }
            assertEquals(inA + inB, c.blocks());
        }
    }

    @Test
    void blocksInPageAlignedMemoryAreWrittenInTheSameFormatAndReadBackByAFreshInstance() throws Exception {
        // Aligned native memory takes the O_DIRECT path where the file system allows it: the aligned head
        // directly, the tail and trailer through the page cache; lengths with and without a tail, and shorter
        // than a page (no direct part at all). Each is read back into aligned memory (the direct read) and into
        // memory that is not (through the page cache), and a damaged head is caught on the direct path too.
        Path d = tmp.resolve("c");
        int[] lengths = {BLOCK, BLOCK + 100, 100};
        try (DiskBlockCache c = open(1 << 20, d)) {
            for (int i = 0; i < lengths.length; i++) {
                byte[] b = java.util.Arrays.copyOf(block(10 + i), lengths[i]);
                ByteBuffer m = ByteBuffer.allocateDirect(lengths[i] + 8192).alignedSlice(4096);
                m.put(b).flip();
                c.write("vol/chunks/0/9/9_" + i + "_" + lengths[i], m);
                assertEquals(0, m.position(), "the caller's buffer is not moved");
            }
        }
        try (DiskBlockCache c = open(1 << 20, d)) {
            for (int i = 0; i < lengths.length; i++) {
                String key = "vol/chunks/0/9/9_" + i + "_" + lengths[i];
                assertEquals(lengths[i] + 8L, Files.size(file(d, key)));
                ByteBuffer aligned = ByteBuffer.allocateDirect(lengths[i] + 8192).alignedSlice(4096);
                ByteBuffer unaligned = ByteBuffer.allocateDirect(lengths[i] + 1).position(1).slice();
                for (ByteBuffer dst : new ByteBuffer[] {aligned, unaligned}) {
                    assertTrue(c.read(key, dst, lengths[i]), key);
                    assertEquals(0, dst.position(), "the destination's position is not moved");
                    byte[] out = new byte[lengths[i]];
                    dst.get(0, out);
                    assertArrayEquals(java.util.Arrays.copyOf(block(10 + i), lengths[i]), out, key);
                }
            }
            // A flipped byte in the aligned head of the first block: the direct read finds the checksum wrong.
            String key = "vol/chunks/0/9/9_0_" + BLOCK;
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file(d, key),
                    java.nio.file.StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(new byte[] {(byte) ~block(10)[5]}), 5);
            }
            ByteBuffer aligned = ByteBuffer.allocateDirect(BLOCK + 8192).alignedSlice(4096);
            assertFalse(c.read(key, aligned, BLOCK), "a damaged block is not served");
            assertFalse(Files.exists(file(d, key)), "and its file is dropped");
        }
    }

    @Test
    void aFreshInstanceRebuildsTheIndexFromTheDirectories() throws Exception {
        Path d = tmp.resolve("c");
        try (DiskBlockCache c = open(1 << 20, d)) {
            for (int i = 1; i <= 3; i++) {
                c.write(key(i), ByteBuffer.wrap(block(i)));
            }
        }
        // Block 3 is made the oldest on disk; a leftover temporary file is removed by the scan.
        Files.setLastModifiedTime(file(d, key(3)), FileTime.fromMillis(1_000));
        Path leftover = d.resolve("hangar-cache").resolve(UUID).resolve(".tmp").resolve("cafe");
        Files.write(leftover, new byte[100]);
        try (DiskBlockCache c = open(3 * ENTRY, d)) {
            assertEquals(3, c.blocks());
            assertEquals(3 * ENTRY, c.usedBytes());
            assertFalse(Files.exists(leftover));
            c.write(key(4), ByteBuffer.wrap(block(4)));
            assertEquals(null, read(c, key(3)), "the oldest file went first");
            for (int i : new int[] {1, 2, 4}) {
                assertArrayEquals(block(i), read(c, key(i)));
            }
        }
        try (DiskBlockCache c = open(ENTRY, d)) {
            assertEquals(1, c.blocks(), "a smaller size evicts the oldest at start");
        }
    }

    @Test
    void writesLaterLandAndGiveEveryBufferBackEvenPastTheBacklog() throws Exception {
        try (DiskBlockCache c = open(1 << 30, tmp.resolve("c"))) {
            java.util.concurrent.atomic.AtomicInteger released = new java.util.concurrent.atomic.AtomicInteger();
            c.writeLater(key(1), ByteBuffer.wrap(block(1)), released::incrementAndGet);
            c.awaitWrites();
            assertEquals(1, released.get());
            assertArrayEquals(block(1), read(c, key(1)));
            // More than the backlog at once: what does not fit is written by the caller; every block lands.
            int n = (int) (DiskBlockCache.MAX_PENDING / BLOCK) + 64;
            ByteBuffer big = ByteBuffer.wrap(block(2));
            for (int i = 0; i < n; i++) {
                c.writeLater(key(100 + i), big.duplicate(), released::incrementAndGet);
            }
            c.awaitWrites();
            assertEquals(1 + n, released.get(), "every buffer given back");
            assertEquals(1 + n, c.writes());
            assertEquals(1 + n, c.blocks());
        }
    }

    @Test
    void closingWritesWhatWaitsAndTakesNothingAfter() throws Exception {
        Path d = tmp.resolve("c");
        java.util.concurrent.atomic.AtomicInteger released = new java.util.concurrent.atomic.AtomicInteger();
        DiskBlockCache c = open(1 << 30, d);
        for (int i = 0; i < 8; i++) {
            c.writeLater(key(i), ByteBuffer.wrap(block(i)), released::incrementAndGet);
        }
        c.close();
        assertEquals(8, released.get());
        c.writeLater(key(99), ByteBuffer.wrap(block(99)), released::incrementAndGet);
        assertEquals(9, released.get(), "a block handed over after close comes back at once");
        try (DiskBlockCache fresh = open(1 << 30, d)) {
            assertEquals(8, fresh.blocks(), "every block that waited at close is on disk");
            for (int i = 0; i < 8; i++) {
                assertArrayEquals(block(i), read(fresh, key(i)));
            }
            assertEquals(null, read(fresh, key(99)));
        }
    }

    @Test
    void aDroppedBlockIsGone() throws Exception {
        Path d = tmp.resolve("c");
        try (DiskBlockCache c = open(1 << 20, d)) {
            c.write(key(1), ByteBuffer.wrap(block(1)));
            c.drop(key(1));
            assertEquals(null, read(c, key(1)));
            assertFalse(Files.exists(file(d, key(1))));
            assertEquals(0, c.usedBytes());
        }
    }

    @Test
    void badSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new DiskBlockCache(List.of(), 1, 0, UUID));
        assertThrows(IllegalArgumentException.class, () -> new DiskBlockCache(List.of(tmp), -1, 0, UUID));
        assertThrows(IllegalArgumentException.class, () -> new DiskBlockCache(List.of(tmp), 1, 1.0, UUID));
    }

    private static long count(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir.resolve("hangar-cache").resolve(UUID))) {
            // Blocks only: not what is being written (.tmp/) nor the directory's lock.
            return s.filter(Files::isRegularFile).filter(p -> !p.getParent().getFileName().toString().equals(".tmp"))
                    .filter(p -> !p.getFileName().toString().equals(DiskBlockCache.LOCK)).count();
        }
    }

    @Test
    void aDirectoryInUseIsRefusedUntilItsCacheCloses() throws Exception {
        Path d = tmp.resolve("c");
        try (DiskBlockCache c = open(1 << 20, d)) {
            c.write(key(1), ByteBuffer.wrap(block(1)));
            java.io.IOException e = assertThrows(java.io.IOException.class, () -> open(1 << 20, tmp.resolve("other"), d));
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
            // The other directory, locked before the refusal, was let go again.
            open(1 << 20, tmp.resolve("other")).close();
        }
        // Closed: the directory opens again, its block (not the lock file) indexed.
        try (DiskBlockCache c = open(1 << 20, d)) {
            assertEquals(1, c.blocks());
            assertArrayEquals(block(1), read(c, key(1)));
        }
    }

    @Test
    void anotherProcessIsRefusedWithItsPid() throws Exception {
        Path d = tmp.resolve("c");
        Path root = d.resolve("hangar-cache").resolve(UUID);
        Files.createDirectories(root);
        // A second JVM holds the directory's lock, as a second mount on the same --cache-dir would.
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path src = tmp.resolve("Hold.java");
        Files.writeString(src, """
                import java.nio.channels.FileChannel;
                import java.nio.file.*;
                public class Hold {
                    public static void main(String[] a) throws Exception {
                        FileChannel ch = FileChannel.open(Path.of(a[0]), StandardOpenOption.CREATE,
                                StandardOpenOption.WRITE);
                        ch.lock();
                        ch.write(java.nio.ByteBuffer.wrap((ProcessHandle.current().pid() + "\\n").getBytes()));
                        System.out.println("locked");
                        System.in.read();
                    }
                }
                """);
        Process holder = new ProcessBuilder(java, src.toString(), root.resolve(DiskBlockCache.LOCK).toString())
                .redirectErrorStream(true).start();
        try {
            String line = new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream())).readLine();
            assertEquals("locked", line);
            java.io.IOException e = assertThrows(java.io.IOException.class, () -> open(1 << 20, d));
            assertTrue(e.getMessage().contains("in use by another process (pid " + holder.pid() + ")"), e.getMessage());
        } finally {
            holder.destroy();
            holder.waitFor();
        }
        open(1 << 20, d).close();
    }
}
