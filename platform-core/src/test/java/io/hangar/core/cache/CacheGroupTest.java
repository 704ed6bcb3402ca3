package io.hangar.core.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.core.layout.ChunkLayout;
import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.SessionRecord;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The ring (rendezvous hashing: a join or a leave moves about 1/N of the keys, and only to or from the member
 * that came or went), the key check, and two members over loopback HTTP: a block fetched from its owner
 * arrives whole, a missing one and an unreachable owner make the caller read the store, a stranger is refused.
 * The engine here is a unit-test stand-in that answers {@code sessions} only.
 */
class CacheGroupTest {
    private static final int BLOCK = 4 << 20;
    private static final ChunkLayout LAYOUT = new ChunkLayout("vol", BLOCK, 64 << 20);
    private final List<CacheGroup> opened = new ArrayList<>();
    private final List<SessionRecord> sessions = new CopyOnWriteArrayList<>();

    @AfterEach
    void closeAll() {
        opened.forEach(CacheGroup::close);
    }

    private static List<CacheGroup.Member> members(int n) {
        List<CacheGroup.Member> m = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String a = "10.0.0." + (i + 1) + ":9000";
            m.add(new CacheGroup.Member(a, true, CacheGroup.hash64(a)));
        }
        return m;
    }

    private static List<String> keys(int n) {
        List<String> k = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            k.add(LAYOUT.blockKey(1000 + i / 16, i % 16, BLOCK));
        }
        return k;
    }

    @Test
    void keysSpreadEvenlyAndAJoinMovesAboutOneNthOfThemAllToTheNewcomer() {
        List<String> keys = keys(20_000);
        List<CacheGroup.Member> three = members(3);
        List<CacheGroup.Member> four = members(4);
        Map<String, Integer> perOwner = new HashMap<>();
        int moved = 0;
        for (String k : keys) {
            CacheGroup.Member before = CacheGroup.owner(three, k);
            CacheGroup.Member after = CacheGroup.owner(four, k);
            perOwner.merge(before.address(), 1, Integer::sum);
            if (!before.equals(after)) {
                moved++;
                assertEquals(four.get(3), after, "a key moves only to the member that joined");
            }
        }
        for (int n : perOwner.values()) {
            assertTrue(Math.abs(n - keys.size() / 3) < keys.size() / 30, "an even share each: " + perOwner);
        }
        double share = moved / (double) keys.size();
        assertTrue(share > 0.22 && share < 0.28, "about 1/4 of the keys moved: " + share);
    }

    @Test
    void aLeaveMovesOnlyTheKeysOfTheMemberThatLeft() {
        List<CacheGroup.Member> four = members(4);
        List<CacheGroup.Member> withoutSecond = new ArrayList<>(four);
        withoutSecond.remove(1);
        for (String k : keys(5_000)) {
            CacheGroup.Member before = CacheGroup.owner(four, k);
            CacheGroup.Member after = CacheGroup.owner(withoutSecond, k);
            if (!before.equals(four.get(1))) {
                assertEquals(before, after, k);
            } else {
                assertNotEquals(before, after);
            }
        }
        assertEquals(null, CacheGroup.owner(List.of(), "vol/chunks/0/0/1_0_4"));
    }

    private CacheGroup member(String name, boolean sharing, Map<String, byte[]> blocks, AtomicInteger serves)
            throws Exception {
        CacheGroup g = new CacheGroup("g", sharing, "127.0.0.1:0", LAYOUT, "uuid-1");
        opened.add(g);
        sessions.add(new SessionRecord(sessions.size() + 1, "pid=1 " + g.sessionInfo(), 0));
        g.start(engine(), new CacheGroup.BlockSource() {
            @Override
            public void serve(String key, int length, CacheGroup.BlockSink sink) throws FsException,
                    java.io.IOException {
                serves.incrementAndGet();
                byte[] b = blocks.get(key);
                if (b == null) {
                    throw new FsException(Errno.EIO, "missing", new io.hangar.spi.store.StoreException(
                            io.hangar.spi.store.StoreException.Kind.NOT_FOUND, key));
                }
                sink.send(ByteBuffer.wrap(b));
            }

            @Override
            public long warm(String key, int length) {
                return blocks.containsKey(key) ? 0 : length;
            }

            @Override
            public boolean holds(String key) {
                return blocks.containsKey(key);
            }

            @Override
            public boolean isMissing(FsException e) {
                return e.getCause() instanceof io.hangar.spi.store.StoreException;
            }
        });
        return g;
    }

    /** An engine that knows only the sessions this test registered. */
    private MetadataEngine engine() {
        return (MetadataEngine) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {MetadataEngine.class}, (proxy, method, args) -> {
                    if (method.getName().equals("sessions")) {
                        return List.copyOf(sessions);
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }

    @Test
    void aMemberFetchesABlockFromItsOwnerWholeAndFallsBackWhenItCannot() throws Exception {
        Map<String, byte[]> storeA = new ConcurrentHashMap<>();
        Map<String, byte[]> storeB = new ConcurrentHashMap<>();
        AtomicInteger servesA = new AtomicInteger();
        AtomicInteger servesB = new AtomicInteger();
        CacheGroup a = member("a", true, storeA, servesA);
        CacheGroup b = member("b", true, storeB, servesB);
        a.refresh();
        b.refresh();
        assertEquals(2, a.members());
        assertEquals(2, b.ring().size());
        // A key B owns, as both see it.
        int len = 1 << 20;
        String shortKey = java.util.stream.IntStream.range(0, 200).mapToObj(i -> LAYOUT.blockKey(1000 + i, 0, len))
                .filter(k -> !a.ownsHere(k)).findFirst().orElseThrow();
        assertTrue(b.ownsHere(shortKey), "they agree on the owner");
        byte[] data = new byte[len];
        new Random(3).nextBytes(data);
        storeB.put(shortKey, data);
        ByteBuffer dst = ByteBuffer.allocateDirect(len);
        assertTrue(a.fetch(shortKey, dst, len));
        byte[] got = new byte[len];
        dst.get(0, got);
        assertArrayEquals(data, got);
        assertEquals(1, servesB.get());
        assertEquals(0, servesA.get());
        assertEquals(1, a.peerHits());
        assertEquals(len, b.servedBytes());
        assertTrue(a.heldByOwner(shortKey), "the owner says it holds the block");
        assertFalse(a.heldByOwner(java.util.stream.IntStream.range(300, 500)
                .mapToObj(i -> LAYOUT.blockKey(1000 + i, 0, len)).filter(k -> !a.ownsHere(k)).findFirst()
                .orElseThrow()), "and that it does not hold another");
        // A block that is longer than the key says is refused (the caller reads the store).
        storeB.put(shortKey, new byte[len + 1]);
        assertFalse(a.fetch(shortKey, ByteBuffer.allocateDirect(len), len));
        assertEquals(1, a.peerCorrupt());
        // Missing at the owner: false, and the owner stays in the ring.
        storeB.remove(shortKey);
        assertFalse(a.fetch(shortKey, ByteBuffer.allocateDirect(len), len));
        assertFalse(a.ownsHere(shortKey), "a missing block is no reason to leave the owner out");
        // The member that owns a block does not ask anyone.
        assertFalse(b.fetch(shortKey, ByteBuffer.allocateDirect(len), len));
        // Owner gone: false at once, and its keys are read here until it is back.
        b.close();
        assertFalse(a.fetch(shortKey, ByteBuffer.allocateDirect(len), len));
        assertTrue(a.ownsHere(shortKey), "an unreachable owner is left out of the ring");
        assertTrue(a.peerFailures() >= 1);
    }

    @Test
    void warmUpIsAskedOfTheOwner() throws Exception {
        AtomicInteger serves = new AtomicInteger();
        CacheGroup a = member("a", false, new ConcurrentHashMap<>(), serves);
        CacheGroup b = member("b", true, new ConcurrentHashMap<>(), serves);
        a.refresh();
        assertEquals(2, a.members());
        assertEquals(1, a.ring().size(), "a member that does not share owns nothing");
        String key = keys(1).get(0);
        assertFalse(a.ownsHere(key));
        assertTrue(b.ownsHere(key));
        assertEquals(BLOCK, a.warmAtOwner(key), "the owner fetched the block");
        assertEquals(-1, b.warmAtOwner(key), "an owner warms its own blocks itself");
    }

    @Test
    void strangersAndBadKeysAreRefused() throws Exception {
        CacheGroup a = member("a", true, new ConcurrentHashMap<>(), new AtomicInteger());
        HttpClient c = HttpClient.newHttpClient();
        String key = keys(1).get(0);
        URI uri = URI.create("http://" + a.address() + "/hangar/v1/blocks/" + key);
        assertEquals(403, c.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.discarding())
                .statusCode());
        String token = "Bearer " + CacheGroup.token("uuid-2", "g");
        assertEquals(403, c.send(HttpRequest.newBuilder(uri).header("Authorization", token).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode(), "another volume's token");
        String ok = "Bearer " + CacheGroup.token("uuid-1", "g");
        for (String bad : List.of("other/chunks/0/1/1000_0_4194304", "vol/chunks/0/1/1000_0_4194305",
                "vol/chunks/0/2/1000_0_4194304", "vol/chunks/0/1/1000_0_0", "vol/volume.id",
                "vol/chunks/0/1/1000_0_04194304")) {
            URI u = URI.create("http://" + a.address() + "/hangar/v1/blocks/" + bad);
            assertEquals(400, c.send(HttpRequest.newBuilder(u).header("Authorization", ok).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode(), bad);
        }
        assertEquals(405, c.send(HttpRequest.newBuilder(uri).header("Authorization", ok)
                .DELETE().build(), HttpResponse.BodyHandlers.discarding()).statusCode());
        assertEquals(4194304, LAYOUT.blockLengthOf(key));
    }

    @Test
    void badSettingsFailInOneLine() {
        assertThrows(IllegalArgumentException.class,
                () -> new CacheGroup("bad name", true, "127.0.0.1:0", LAYOUT, "u"));
        assertThrows(IllegalArgumentException.class,
                () -> new CacheGroup("g", true, "0.0.0.0:0", LAYOUT, "u"));
        assertThrows(IllegalArgumentException.class,
                () -> new CacheGroup("g", true, "127.0.0.1:99999", LAYOUT, "u"));
        assertThrows(IllegalArgumentException.class, () -> CacheGroup.listenAddress("[::1:7070"));
        assertThrows(IllegalArgumentException.class, () -> CacheGroup.listenAddress("[::1]7070"));
        assertThrows(IllegalArgumentException.class, () -> CacheGroup.listenAddress("[::1]:x"));
        assertThrows(IllegalArgumentException.class, () -> CacheGroup.listenAddress("[::]:7070"));
    }

    @Test
    void groupAddressesAreHostPortOrABracketedIpv6LiteralAndPort() throws Exception {
        InetSocketAddress v6 = CacheGroup.listenAddress("[::1]:7070");
        assertEquals(InetAddress.getByName("::1"), v6.getAddress());
        assertEquals(7070, v6.getPort());
        assertEquals(0, CacheGroup.listenAddress("[::1]").getPort(), "no port: any");
        assertEquals(InetAddress.getByName("::1"), CacheGroup.listenAddress("::1").getAddress(), "bare literal");
        InetSocketAddress v4 = CacheGroup.listenAddress("127.0.0.1:7071");
        assertEquals(InetAddress.getByName("127.0.0.1"), v4.getAddress());
        assertEquals(7071, v4.getPort());
        assertFalse(CacheGroup.listenAddress("").getAddress().isAnyLocalAddress(), "empty: a reachable address");
    }
}
