package io.hangar.tck.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.store.ListPage;
import io.hangar.spi.store.ObjectInfo;
import io.hangar.spi.store.StoreException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The conformance kit every {@link ChunkStore} must pass. Subclasses return a store over a fresh, empty
 * namespace (bucket, pool namespace or directory) from {@link #newStore()}, and may override
 * {@link #reopen()} to return a second client on the same namespace (durability across clients).
 */
public abstract class ChunkStoreTck {
    protected ChunkStore store;

    /** A store over a fresh, empty namespace. */
    protected abstract ChunkStore newStore() throws Exception;

    /** Another client on the same namespace as the last {@link #newStore()}. */
    protected abstract ChunkStore reopen() throws Exception;

    @BeforeEach
    void open() throws Exception {
        store = newStore();
    }

    @AfterEach
    void closeStore() {
        if (store != null) {
            store.close();
        }
    }

    protected static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void putThenGetWholeObject() throws Exception {
        byte[] data = random(100_000, 1);
        store.put("v/chunks/0/0/1_0_100000", data, 0, data.length);
        assertArrayEquals(data, store.get("v/chunks/0/0/1_0_100000", 0, -1));
    }

    @Test
    void putHonoursOffsetAndLength() throws Exception {
        byte[] data = random(1000, 2);
        store.put("k", data, 100, 500);
        byte[] expected = new byte[500];
        System.arraycopy(data, 100, expected, 0, 500);
        assertArrayEquals(expected, store.get("k", 0, -1));
    }

    @Test
    void emptyObjectIsStoredAndRead() throws Exception {
        store.put("empty", new byte[0], 0, 0);
        assertEquals(0, store.get("empty", 0, -1).length);
        assertEquals(0, store.head("empty").size());
    }

    @Test
    void rangedReadsReturnExactlyTheRange() throws Exception {
        byte[] data = random(4 << 20, 3);
        store.put("big", data, 0, data.length);
        Random r = new Random(4);
        for (int i = 0; i < 50; i++) {
            int off = r.nextInt(data.length);
            int len = r.nextInt(data.length - off) + 1;
            byte[] got = store.get("big", off, len);
            byte[] want = new byte[len];
            System.arraycopy(data, off, want, 0, len);
            assertArrayEquals(want, got, "range " + off + "+" + len);
        }
    }

    @Test
    void rangePastTheEndIsCut() throws Exception {
        byte[] data = random(1000, 5);
        store.put("k", data, 0, data.length);
        assertEquals(100, store.get("k", 900, 500).length);
        assertEquals(0, store.get("k", 1000, 10).length);
        assertEquals(0, store.get("k", 5000, 10).length);
        assertEquals(100, store.get("k", 900, -1).length);
    }

    @Test
    void byteBufferFormsStoreAndReadDirectAndHeapBuffers() throws Exception {
        byte[] data = random(3 << 20, 6);
        java.nio.ByteBuffer direct = java.nio.ByteBuffer.allocateDirect(data.length + 100);
        direct.position(100);
        direct.put(data).flip().position(100);
        store.put("bb/direct", direct);
        assertEquals(100, direct.position(), "put leaves the buffer's position alone");
        store.put("bb/heap", java.nio.ByteBuffer.wrap(data, 1000, 5000));
        store = reopen();

        java.nio.ByteBuffer whole = java.nio.ByteBuffer.allocateDirect(data.length + 10);
        assertEquals(data.length, store.get("bb/direct", 0, whole), "cut at the object's end");
        assertEquals(data.length, whole.position());
        byte[] back = new byte[data.length];
        whole.flip().get(back);
        assertArrayEquals(data, back);

        java.nio.ByteBuffer range = java.nio.ByteBuffer.allocateDirect(4096);
        assertEquals(4096, store.get("bb/direct", 1 << 20, range));
        byte[] r = new byte[4096];
        range.flip().get(r);
        assertArrayEquals(java.util.Arrays.copyOfRange(data, 1 << 20, (1 << 20) + 4096), r);

        java.nio.ByteBuffer heap = java.nio.ByteBuffer.allocate(6000);
        assertEquals(5000, store.get("bb/heap", 0, heap));
        assertArrayEquals(java.util.Arrays.copyOfRange(data, 1000, 6000),
                java.util.Arrays.copyOf(heap.array(), 5000));
        assertEquals(0, store.get("bb/heap", 5000, java.nio.ByteBuffer.allocateDirect(10)), "offset at the end");
        StoreException e = assertThrows(StoreException.class,
                () -> store.get("bb/none", 0, java.nio.ByteBuffer.allocateDirect(10)));
        assertEquals(StoreException.Kind.NOT_FOUND, e.kind());
    }

    @Test
    void missingObjectIsNotFound() {
        StoreException e = assertThrows(StoreException.class, () -> store.get("nope", 0, -1));
        assertEquals(StoreException.Kind.NOT_FOUND, e.kind());
        e = assertThrows(StoreException.class, () -> store.head("nope"));
        assertEquals(StoreException.Kind.NOT_FOUND, e.kind());
    }

    @Test
    void headReportsSize() throws Exception {
        store.put("a/b", new byte[1234], 0, 1234);
        ObjectInfo info = store.head("a/b");
        assertEquals("a/b", info.key());
        assertEquals(1234, info.size());
    }

    @Test
    void putReplacesAnExistingObject() throws Exception {
        store.put("k", random(10, 6), 0, 10);
        byte[] second = random(20, 7);
        store.put("k", second, 0, 20);
        assertArrayEquals(second, store.get("k", 0, -1));
    }

    @Test
    void deleteRemovesAndIsIdempotent() throws Exception {
        store.put("k", new byte[3], 0, 3);
        store.delete("k");
        assertEquals(StoreException.Kind.NOT_FOUND,
                assertThrows(StoreException.class, () -> store.head("k")).kind());
        store.delete("k");
        store.delete("never-existed");
    }

    @Test
    void badKeysAreInvalid() {
        for (String bad : new String[] {"", "/abs", "a/../b", "a//b", "./a", "a/.", "trailing/"}) {
            StoreException e = assertThrows(StoreException.class, () -> store.put(bad, new byte[1], 0, 1), bad);
            assertEquals(StoreException.Kind.INVALID, e.kind(), bad);
        }
    }

    @Test
    void listingFiltersByPrefixInKeyOrder() throws Exception {
        List<String> keys = List.of("v/chunks/0/0/1_0_5", "v/chunks/0/0/2_0_5", "v/chunks/0/1/1000_0_5",
                "v/volume.id", "w/other", "v2/x");
        for (String k : keys) {
            store.put(k, new byte[5], 0, 5);
        }
        ListPage page = store.list("v/", null, 100);
        List<String> got = page.objects().stream().map(ObjectInfo::key).toList();
        assertEquals(List.of("v/chunks/0/0/1_0_5", "v/chunks/0/0/2_0_5", "v/chunks/0/1/1000_0_5", "v/volume.id"),
                got);
        assertNull(page.next());
        assertEquals(5, page.objects().get(0).size());
        assertEquals(6, store.list("", null, 100).objects().size());
        assertTrue(store.list("nothing/", null, 100).objects().isEmpty());
    }

    @Test
    void listingPaginatesWithoutGapsOrRepeats() throws Exception {
        List<String> all = new ArrayList<>();
        for (int i = 0; i < 250; i++) {
            String k = String.format("p/%02d/obj-%04d", i % 7, i);
            all.add(k);
            store.put(k, new byte[1], 0, 1);
        }
        all.sort(null);
        List<String> seen = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            ListPage page = store.list("p/", cursor, 40);
            assertTrue(page.objects().size() <= 40);
            page.objects().forEach(o -> seen.add(o.key()));
            cursor = page.next();
            pages++;
        } while (cursor != null && pages < 100);
        assertEquals(all, seen);
        assertTrue(pages >= 7);
    }

    /**
     * Key order is byte order of the whole key, whatever the store keeps as directories: "a-b" sorts before
     * "a/b", "10/" after "1/" and "1_x"; a prefix need not end at a '/'; a cursor may name a deleted key.
     * (No key is also a prefix of another one ending at a '/': a directory store cannot hold both.)
     */
    @Test
    void listingFollowsWholeKeyOrderAcrossNestedNames() throws Exception {
        List<String> all = new ArrayList<>(List.of("q/1/5", "q/1_x", "q/10/1", "q/1/10", "q/1/9", "q/a-b", "q/a/b",
                "q/a/b-c", "q/a/c/d", "q/a.", "q/b", "q/ab/z", "qq/1"));
        for (String k : all) {
            store.put(k, new byte[2], 0, 2);
        }
        all.sort(null);
        for (int limit : new int[] {1, 2, 3, 5, 100}) {
            List<String> seen = new ArrayList<>();
            String cursor = null;
            do {
                ListPage page = store.list("q", cursor, limit);
                assertTrue(page.objects().size() <= limit);
                page.objects().forEach(o -> seen.add(o.key()));
                cursor = page.next();
            } while (cursor != null && seen.size() <= all.size());
            assertEquals(all, seen, "pages of " + limit);
        }
        assertEquals(List.of("q/a/b", "q/a/b-c"),
                store.list("q/a/b", null, 100).objects().stream().map(ObjectInfo::key).toList());
        assertEquals(List.of("q/1/9", "q/10/1", "q/1_x"),
                store.list("q/1", "q/1/5", 100).objects().stream().map(ObjectInfo::key).toList());
        store.delete("q/1/5");
        assertEquals("q/1/9", store.list("q/", "q/1/5", 1).objects().get(0).key(), "a cursor on a deleted key");
    }

    @Test
    void objectsAreDurableAcrossClients() throws Exception {
        byte[] data = random(70_000, 8);
        store.put("d/k", data, 0, data.length);
        try (ChunkStore other = reopen()) {
            assertArrayEquals(data, other.get("d/k", 0, -1));
        }
    }

    @Test
    void concurrentPutsAndGetsOfManyObjects() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int thread = t;
                fs.add(pool.submit(() -> {
                    for (int i = 0; i < 25; i++) {
                        byte[] d = random(10_000 + i, thread * 1000L + i);
                        String k = "c/" + thread + "/" + i;
                        store.put(k, d, 0, d.length);
                        assertArrayEquals(d, store.get(k, 0, -1));
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        assertEquals(200, countAll("c/"));
    }

    @Test
    void concurrentWritersOfOneKeyLeaveOneWholeObject() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<byte[]> versions = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            versions.add(random(1 << 20, 100 + i));
        }
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (byte[] v : versions) {
                fs.add(pool.submit(() -> {
                    for (int i = 0; i < 5; i++) {
                        store.put("same", v, 0, v.length);
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        byte[] got = store.get("same", 0, -1);
        assertTrue(versions.stream().anyMatch(v -> java.util.Arrays.equals(v, got)), "a torn object was read");
    }

    private int countAll(String prefix) throws StoreException {
        int n = 0;
        String cursor = null;
        do {
            ListPage p = store.list(prefix, cursor, 1000);
            n += p.objects().size();
            cursor = p.next();
        } while (cursor != null);
        return n;
    }
}
