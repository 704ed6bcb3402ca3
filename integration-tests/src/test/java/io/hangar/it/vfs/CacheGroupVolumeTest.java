package io.hangar.it.vfs;

import static io.hangar.it.vfs.VolumeFixture.readAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.core.cache.CacheGroup;
import io.hangar.core.vfs.VfsVolume;
import io.hangar.fs.FsException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Volumes of one cache group in one JVM (SQLite metadata, a file store, a disk cache each), through their real
 * member ports on loopback: members reading the same file at once get each block from the store once, by its
 * owner; a member that leaves mid-read leaves the others reading the right bytes; a damaged block in an
 * owner's cache is not served; a warm-up loads each block into its owner. (The suite in
 * integration-tests/cache-group does the same with three processes, FUSE mounts, Redis and Ceph.)
 */
class CacheGroupVolumeTest {
    private static final int SIZE = 64 << 20; // 16 blocks of 4 MiB
    private static final int BLOCKS = 16;

    @TempDir
    Path tmp;

    private VolumeFixture fx;
    private byte[] data;
    private long inode;
    private final List<VfsVolume> open = new ArrayList<>();
    private final ExecutorService readers = Executors.newFixedThreadPool(3);

    @BeforeEach
    void setUp() throws Exception {
        fx = new VolumeFixture(tmp.resolve("vol")).format("grouped", Map.of());
        data = new byte[SIZE];
        new Random(11).nextBytes(data);
        try (VfsVolume w = fx.open()) {
            inode = VolumeFixture.writeFile(w, "model.bin", data);
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        readers.shutdownNow();
        for (VfsVolume v : open) {
            v.close();
        }
    }

    /** Each member's port, kept for its next open: a member's blocks are the ones its address owns. */
    private final Map<String, Integer> ports = new HashMap<>();

    private VfsVolume member(String name, boolean sharing, boolean disk) throws FsException, IOException {
        Map<String, String> o = new HashMap<>();
        o.put("cache-group", "g");
        if (!ports.containsKey(name)) {
            try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                ports.put(name, s.getLocalPort());
            }
        }
        o.put("group-address", "127.0.0.1:" + ports.get(name));
        o.put("cache-size", "128M");
        if (!sharing) {
            o.put("no-sharing", "true");
        }
        if (disk) {
            o.put("cache-dir", tmp.resolve("cache-" + name).toString());
            o.put("disk-cache-size", "1G");
            o.put("free-space-ratio", "0");
        }
        VfsVolume v = fx.open(o);
        open.add(v);
        return v;
    }

    private static CacheGroup group(VfsVolume v) {
        return v.cacheGroup().orElseThrow();
    }

    /** Every member reads the member list now (they do every second by themselves). */
    private static void seeEachOther(int members, VfsVolume... vs) {
        for (VfsVolume v : vs) {
            group(v).refresh();
            assertEquals(members, group(v).members(), "members seen by " + group(v).address());
        }
    }

    private static long storeReads(VfsVolume... vs) {
        long n = 0;
        for (VfsVolume v : vs) {
            n += v.blocksReadFromStore();
        }
        return n;
    }

    private List<Future<byte[]>> readConcurrently(VfsVolume... vs) {
        List<Future<byte[]>> f = new ArrayList<>();
        for (VfsVolume v : vs) {
            f.add(readers.submit((Callable<byte[]>) () -> readAll(v, inode)));
        }
        return f;
    }

    @Test
    void membersReadingOneFileAtOnceGetEachBlockFromTheStoreOnce() throws Exception {
        VfsVolume a = member("a", true, true);
        VfsVolume b = member("b", true, true);
        VfsVolume c = member("c", true, true);
        seeEachOther(3, a, b, c);
        for (Future<byte[]> f : readConcurrently(a, b, c)) {
            assertArrayEquals(data, f.get());
        }
        assertEquals(BLOCKS, storeReads(a, b, c), "each block read from the store once, by its owner");
        long peerBlocks = group(a).peerHits() + group(b).peerHits() + group(c).peerHits();
        assertEquals(2L * BLOCKS, peerBlocks, "every member got the blocks it does not own from their owners");
        assertEquals(peerBlocks, group(a).served() + group(b).served() + group(c).served());
        for (VfsVolume v : List.of(a, b, c)) {
            assertTrue(v.blocksReadFromStore() > 0, "each of the three owns some blocks");
            assertEquals(0, group(v).peerFailures());
        }
    }

    @Test
    void aMemberLeavingMidReadLeavesTheOthersReadingTheRightBytes() throws Exception {
        VfsVolume a = member("a", true, false);
        VfsVolume b = member("b", true, false);
        VfsVolume c = member("c", true, false);
        seeEachOther(3, a, b, c);
        List<Future<byte[]>> reads = readConcurrently(a, b);
        c.close(); // its port closes now; a and b still list it until they read the members again
        for (Future<byte[]> f : reads) {
            assertArrayEquals(data, f.get());
        }
        assertTrue(storeReads(a, b) >= BLOCKS / 3, "what c owned came from the store");
        seeEachOther(2, a, b);
        assertArrayEquals(data, readAll(member("d", true, false), inode), "a newcomer reads through the group");
    }

    @Test
    void aDamagedBlockInTheOwnersCacheIsNotServed() throws Exception {
        VfsVolume a = member("a", true, true);
        VfsVolume b = member("b", true, true);
        seeEachOther(2, a, b);
        assertArrayEquals(data, readAll(a, inode));
        long owned = b.blocksReadFromStore();
        assertTrue(owned > 0, "b owns some blocks");
        b.diskCache().orElseThrow().awaitWrites();
        a.close();
        b.close();
        open.clear();
        int flipped = 0;
        try (Stream<Path> s = Files.walk(tmp.resolve("cache-b"))) {
            for (Path p : s.filter(Files::isRegularFile).filter(p -> p.toString().contains("/chunks/")).toList()) {
                try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
                    f.seek(1000);
                    int x = f.read();
                    f.seek(1000);
                    f.write(x ^ 0x40);
                }
                flipped++;
            }
        }
        assertEquals(owned, flipped, "b's disk cache held the blocks it owns");
        VfsVolume a2 = member("a", true, true);
        VfsVolume b2 = member("b", true, true);
        seeEachOther(2, a2, b2);
        assertArrayEquals(data, readAll(a2, inode), "the damaged copies were not served");
        assertEquals(flipped, b2.diskCache().orElseThrow().corrupt(), "the owner found each damaged copy");
        assertEquals(flipped, b2.blocksReadFromStore(), "and read each from the store again");
        assertEquals(0, a2.blocksReadFromStore(), "a's own blocks came from its disk cache");
    }

    @Test
    void aWarmUpLoadsEachBlockIntoItsOwner() throws Exception {
        VfsVolume client = member("client", false, false);
        VfsVolume b = member("b", true, true);
        VfsVolume c = member("c", true, true);
        seeEachOther(3, client, b, c);
        assertEquals(2, group(client).ring().size(), "the client owns no blocks");
        assertEquals(SIZE, client.warm(inode), "every byte fetched once, by the owners");
        assertEquals(0, client.blocksReadFromStore());
        assertEquals(BLOCKS, storeReads(b, c));
        assertEquals(BLOCKS, group(client).warmedAtOwners());
        assertEquals(SIZE, b.cacheState(inode).diskBytes() + c.cacheState(inode).diskBytes(),
                "each block on its owner's disk");
        assertEquals(0, client.warm(inode), "the owners had every block");
        removeBlocksFromTheStore();
        assertArrayEquals(data, readAll(client, inode), "read from the owners' caches alone");
    }

    @Test
    void badGroupOptionsFailInOneLine() {
        Exception e = assertThrows(Exception.class, () -> fx.open(Map.of("cache-group", "no spaces")));
        assertTrue(e.getMessage().contains("cache-group: 1-64 letters"), e.getMessage());
        e = assertThrows(Exception.class, () -> fx.open(Map.of("no-sharing", "true")));
        assertTrue(e.getMessage().contains("need a cache-group"), e.getMessage());
        e = assertThrows(Exception.class, () -> fx.open(Map.of("cache-group", "g", "group-address", "192.0.2.1:0")));
        assertTrue(e.getMessage().contains("cannot join cache group g"), e.getMessage());
    }

    private void removeBlocksFromTheStore() throws IOException {
        try (Stream<Path> s = Files.walk(fx.dir.resolve("chunks").resolve("grouped").resolve("chunks"))) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                Files.delete(p);
            }
        }
        assertEquals(0, fx.blockObjects());
    }
}
