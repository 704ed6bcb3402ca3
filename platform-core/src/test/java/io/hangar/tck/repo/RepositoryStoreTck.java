package io.hangar.tck.repo;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.spi.repo.AuditEntry;
import io.hangar.spi.repo.AuditEvent;
import io.hangar.spi.repo.AuditPage;
import io.hangar.spi.repo.AuditQuery;
import io.hangar.spi.repo.RepoCondition;
import io.hangar.spi.repo.RepoRecord;
import io.hangar.spi.repo.RepoWrite;
import io.hangar.spi.repo.RepositoryStore;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The conformance kit of {@link RepositoryStore}. A subclass supplies {@link #newStore()}, a store on a fresh,
 * empty backend (called once per test, before it), and {@link #reopen()}, another client on the same backend as
 * a second process would open it: every read-back that proves a commit landed goes through such a client.
 */
public abstract class RepositoryStoreTck {
    private final List<RepositoryStore> opened = new ArrayList<>();
    protected RepositoryStore store;

    /** A store on a fresh, empty backend. */
    protected abstract RepositoryStore newStore() throws Exception;

    /** Another client on the backend of the last {@link #newStore()}. */
    protected abstract RepositoryStore reopen() throws Exception;

    @BeforeEach
    void openStore() throws Exception {
        store = track(newStore());
    }

    @AfterEach
    void closeStores() {
        for (RepositoryStore s : opened) {
            s.close();
        }
    }

    private RepositoryStore track(RepositoryStore s) {
        opened.add(s);
        return s;
    }

    /** A second client, closed after the test. */
    protected RepositoryStore other() throws Exception {
        return track(reopen());
    }

    private static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }

    private boolean put(RepositoryStore s, String key, String value) throws FsException {
        return s.commit(List.of(), List.of(RepoWrite.put(key, b(value))), List.of());
    }

    private static String value(RepositoryStore s, String key) throws FsException {
        return s.get(key).map(r -> new String(r.value(), UTF_8)).orElse(null);
    }

    private static List<String> keys(List<RepoRecord> records) {
        return records.stream().map(RepoRecord::key).toList();
    }

    private static void assertErrno(Errno expected, Executable call) {
        FsException e = assertThrows(FsException.class, call);
        assertEquals(expected, e.errno(), e.getMessage());
    }

    // ---- records ----

    @Test
    void anAbsentKeyReadsAsEmpty() throws Exception {
        assertTrue(store.get("team/none").isEmpty());
        assertEquals(List.of(), store.list("", null, 10));
    }

    @Test
    void aCommittedPutIsSeenByAnotherClientWithVersionOne() throws Exception {
        assertTrue(put(store, "team/a", "one"));
        RepoRecord r = other().get("team/a").orElseThrow();
        assertEquals("team/a", r.key());
        assertEquals("one", new String(r.value(), UTF_8));
        assertEquals(1, r.version());
    }

    @Test
    void everyPutRaisesTheVersionAndADeleteForgetsIt() throws Exception {
        put(store, "k", "1");
        put(store, "k", "2");
        put(store, "k", "3");
        RepositoryStore o = other();
        assertEquals(3, o.get("k").orElseThrow().version());
        assertEquals("3", value(o, "k"));
        assertTrue(store.commit(List.of(), List.of(RepoWrite.delete("k")), List.of()));
        assertTrue(o.get("k").isEmpty());
        put(store, "k", "again");
        assertEquals(1, o.get("k").orElseThrow().version());
    }

    @Test
    void deletingAnAbsentKeySucceedsAndChangesNothing() throws Exception {
        assertTrue(store.commit(List.of(), List.of(RepoWrite.delete("nothing")), List.of()));
        assertTrue(other().get("nothing").isEmpty());
    }

    @Test
    void valuesAreBytesKeptExactly() throws Exception {
        byte[] all = new byte[256 * 4];
        for (int i = 0; i < all.length; i++) {
            all[i] = (byte) i;
        }
        store.commit(List.of(), List.of(RepoWrite.put("bin", all), RepoWrite.put("empty", new byte[0])), List.of());
        RepositoryStore o = other();
        assertArrayEquals(all, o.get("bin").orElseThrow().value());
        assertArrayEquals(new byte[0], o.get("empty").orElseThrow().value());
    }

    @Test
    void aValueOfTheLargestSizeIsKept() throws Exception {
        byte[] big = new byte[RepositoryStore.MAX_VALUE];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i * 31 + 7);
        }
        assertTrue(store.commit(List.of(), List.of(RepoWrite.put("big", big)), List.of()));
        assertArrayEquals(big, other().get("big").orElseThrow().value());
    }

    @Test
    void theLastWriteOfAKeyInOneCommitWins() throws Exception {
        store.commit(List.of(), List.of(RepoWrite.put("k", b("first")), RepoWrite.put("k", b("second")),
                RepoWrite.put("d", b("x")), RepoWrite.delete("d")), List.of());
        RepositoryStore o = other();
        assertEquals("second", value(o, "k"));
        assertTrue(o.get("d").isEmpty());
    }

    // ---- conditions ----

    @Test
    void aCommitWhoseConditionsHoldIsApplied() throws Exception {
        put(store, "tag/prod", "v1");
        long v = store.get("tag/prod").orElseThrow().version();
        assertTrue(store.commit(List.of(new RepoCondition("tag/prod", v), RepoCondition.absent("tag/new")),
                List.of(RepoWrite.put("tag/prod", b("v2")), RepoWrite.put("tag/new", b("v2"))), List.of()));
        RepositoryStore o = other();
        assertEquals("v2", value(o, "tag/prod"));
        assertEquals("v2", value(o, "tag/new"));
    }

    @Test
    void aCommitWithOneFailingConditionChangesNothingAtAll() throws Exception {
        put(store, "a", "1");
        put(store, "b", "1");
        long va = store.get("a").orElseThrow().version();
        boolean applied = store.commit(
                List.of(new RepoCondition("a", va), new RepoCondition("b", 7), RepoCondition.absent("c")),
                List.of(RepoWrite.put("a", b("2")), RepoWrite.delete("b"), RepoWrite.put("c", b("new"))),
                List.of(new AuditEvent("t", "u", "m", b("should not be logged"))));
        assertFalse(applied);
        RepositoryStore o = other();
        assertEquals("1", value(o, "a"));
        assertEquals(va, o.get("a").orElseThrow().version());
        assertEquals("1", value(o, "b"));
        assertTrue(o.get("c").isEmpty());
        assertEquals(List.of(), o.audit(AuditQuery.all(10)).entries());
    }

    @Test
    void anAbsentConditionFailsOnAPresentKey() throws Exception {
        put(store, "model/t/m", "x");
        assertFalse(store.commit(List.of(RepoCondition.absent("model/t/m")),
                List.of(RepoWrite.put("model/t/m", b("y"))), List.of()));
        assertEquals("x", value(other(), "model/t/m"));
    }

    @Test
    void aVersionConditionFailsOnAnAbsentKey() throws Exception {
        assertFalse(store.commit(List.of(new RepoCondition("gone", 1)), List.of(RepoWrite.put("x", b("y"))),
                List.of()));
        assertTrue(other().get("x").isEmpty());
    }

    @Test
    void conditionalIncrementsFromManyClientsLoseNoUpdate() throws Exception {
        put(store, "counter", "0");
        List<RepositoryStore> clients = List.of(store, other(), other());
        AtomicInteger applied = new AtomicInteger();
        int perThread = 40;
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                RepositoryStore s = clients.get(t % clients.size());
                done.add(pool.submit(() -> {
                    int mine = 0;
                    while (mine < perThread) {
                        RepoRecord r = s.get("counter").orElseThrow();
                        int n = Integer.parseInt(new String(r.value(), UTF_8));
                        if (s.commit(List.of(new RepoCondition("counter", r.version())),
                                List.of(RepoWrite.put("counter", b(Integer.toString(n + 1)))), List.of())) {
                            mine++;
                            applied.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        RepoRecord r = other().get("counter").orElseThrow();
        assertEquals(Integer.toString(applied.get()), new String(r.value(), UTF_8));
        assertEquals(6 * perThread, applied.get());
        assertEquals(6 * perThread + 1, r.version());
    }

    // ---- listing ----

    @Test
    void listingReturnsThePrefixInUtf8ByteOrder() throws Exception {
        // UTF-16 order would put U+1F600 (a surrogate pair, D83D DE00) before U+FFFD; UTF-8 puts it after.
        List<String> keys = new ArrayList<>(List.of("m/z", "m/\u00e9", "m/\uFFFD", "m/\uD83D\uDE00", "m/A", "m/a",
                "m/a/b", "m-", "n/x", "l/x"));
        List<RepoWrite> writes = new ArrayList<>();
        for (String k : keys) {
            writes.add(RepoWrite.put(k, b(k)));
        }
        store.commit(List.of(), writes, List.of());
        List<String> expected = List.of("m/A", "m/a", "m/a/b", "m/z", "m/\u00e9", "m/\uFFFD", "m/\uD83D\uDE00");
        assertEquals(expected, keys(other().list("m/", null, 100)));
        List<String> all = new ArrayList<>(keys);
        all.sort((x, y) -> java.util.Arrays.compareUnsigned(b(x), b(y)));
        assertEquals(all, keys(other().list("", null, 100)));
    }

    @Test
    void listingPagesAfterACursorThatNeedNotExist() throws Exception {
        List<RepoWrite> writes = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            writes.add(RepoWrite.put(String.format("v/%03d", i), b("x")));
        }
        store.commit(List.of(), writes, List.of());
        RepositoryStore o = other();
        List<String> seen = new ArrayList<>();
        String after = null;
        while (true) {
            List<RepoRecord> page = o.list("v/", after, 10);
            if (page.isEmpty()) {
                break;
            }
            assertTrue(page.size() <= 10);
            seen.addAll(keys(page));
            after = page.get(page.size() - 1).key();
        }
        assertEquals(25, seen.size());
        assertEquals("v/000", seen.get(0));
        assertEquals("v/024", seen.get(24));
        assertEquals(List.of("v/011", "v/012"), keys(o.list("v/", "v/010x", 2)));
    }

    @Test
    void prefixesAreTakenLiterallyNotAsPatterns() throws Exception {
        store.commit(List.of(), List.of(RepoWrite.put("a_b/1", b("x")), RepoWrite.put("axb/1", b("x")),
                RepoWrite.put("a%/1", b("x")), RepoWrite.put("a%z/1", b("x")), RepoWrite.put("a*/1", b("x")),
                RepoWrite.put("a[/1", b("x")), RepoWrite.put("a\\/1", b("x"))), List.of());
        RepositoryStore o = other();
        assertEquals(List.of("a_b/1"), keys(o.list("a_", null, 10)));
        assertEquals(List.of("a%/1", "a%z/1"), keys(o.list("a%", null, 10)));
        assertEquals(List.of("a*/1"), keys(o.list("a*", null, 10)));
        assertEquals(List.of("a[/1"), keys(o.list("a[", null, 10)));
        assertEquals(List.of("a\\/1"), keys(o.list("a\\", null, 10)));
    }

    @Test
    void listingReturnsValuesAndVersions() throws Exception {
        put(store, "p/1", "one");
        put(store, "p/1", "uno");
        List<RepoRecord> page = other().list("p/", null, 10);
        assertEquals(1, page.size());
        assertEquals("uno", new String(page.get(0).value(), UTF_8));
        assertEquals(2, page.get(0).version());
    }

    // ---- bad arguments ----

    @Test
    void badKeysValuesAndLimitsAreEinvalAndChangeNothing() throws Exception {
        String tooLong = "k".repeat(RepositoryStore.MAX_KEY + 1);
        String longest = "k".repeat(RepositoryStore.MAX_KEY);
        assertErrno(Errno.EINVAL, () -> store.get(""));
        assertErrno(Errno.EINVAL, () -> store.get(tooLong));
        assertErrno(Errno.EINVAL, () -> store.get("a\0b"));
        assertErrno(Errno.EINVAL, () -> store.commit(List.of(), List.of(RepoWrite.put("ok", b("1")),
                RepoWrite.put("a\0b", b("x"))), List.of()));
        assertErrno(Errno.EINVAL, () -> store.commit(List.of(), List.of(RepoWrite.put("ok", b("1")),
                RepoWrite.put("big", new byte[RepositoryStore.MAX_VALUE + 1])), List.of()));
        assertErrno(Errno.EINVAL, () -> store.commit(List.of(RepoCondition.absent("")),
                List.of(RepoWrite.put("ok", b("1"))), List.of()));
        assertErrno(Errno.EINVAL, () -> store.commit(List.of(new RepoCondition("ok", -1)),
                List.of(RepoWrite.put("ok", b("1"))), List.of()));
        List<RepoWrite> tooMany = new ArrayList<>();
        for (int i = 0; i <= RepositoryStore.MAX_WRITES; i++) {
            tooMany.add(RepoWrite.put("many/" + i, b("x")));
        }
        assertErrno(Errno.EINVAL, () -> store.commit(List.of(), tooMany, List.of()));
        assertErrno(Errno.EINVAL, () -> store.commit(List.of(), List.of(RepoWrite.put("ok", b("1"))),
                Collections.nCopies(RepositoryStore.MAX_WRITES + 1, new AuditEvent("t", "u", "m", b("x")))));
        assertErrno(Errno.EINVAL, () -> store.list("", null, 0));
        assertErrno(Errno.EINVAL, () -> store.list("", null, RepositoryStore.MAX_LIST + 1));
        assertErrno(Errno.EINVAL, () -> store.audit(AuditQuery.all(0)));
        assertErrno(Errno.EINVAL, () -> store.audit(AuditQuery.all(RepositoryStore.MAX_LIST + 1)));
        RepositoryStore o = other();
        assertTrue(o.get("ok").isEmpty());
        assertEquals(List.of(), o.list("", null, 10));
        assertEquals(List.of(), o.audit(AuditQuery.all(10)).entries());
        assertTrue(put(store, longest, "x"));
        assertEquals("x", value(o, longest));
    }

    // ---- audit ----

    private static AuditEvent event(String team, String user, String model, String detail) {
        return new AuditEvent(team, user, model, b(detail));
    }

    private static List<String> details(List<AuditEntry> entries) {
        return entries.stream().map(e -> new String(e.detail(), UTF_8)).toList();
    }

    /** Every entry the query matches, read page by page. */
    private static List<AuditEntry> readAll(RepositoryStore s, AuditQuery q) throws FsException {
        List<AuditEntry> all = new ArrayList<>();
        AuditQuery next = q;
        for (int pages = 0; pages < 10_000; pages++) {
            AuditPage p = s.audit(next);
            assertTrue(p.entries().size() <= q.limit());
            all.addAll(p.entries());
            if (p.end()) {
                return all;
            }
            assertTrue(p.next() > next.afterSeq(), "a page that is not the end moves the cursor");
            next = next.after(p.next());
        }
        throw new AssertionError("the audit log did not end");
    }

    @Test
    void auditEventsCommitWithTheWritesAndGetIncreasingSequenceNumbers() throws Exception {
        long before = System.currentTimeMillis();
        store.commit(List.of(), List.of(RepoWrite.put("a", b("1"))),
                List.of(event("t1", "alice", "m", "create"), event("t1", "alice", "m", "tag")));
        other().commit(List.of(), List.of(), List.of(event(null, "root", null, "site")));
        long after = System.currentTimeMillis();
        List<AuditEntry> all = readAll(other(), AuditQuery.all(10));
        assertEquals(List.of("create", "tag", "site"), details(all));
        assertTrue(all.get(0).seq() < all.get(1).seq() && all.get(1).seq() < all.get(2).seq());
        for (AuditEntry e : all) {
            // the store's clock, which may differ from this one by a little
            assertTrue(e.timeMs() > before - 60_000 && e.timeMs() < after + 60_000, e.toString());
        }
        assertEquals("t1", all.get(0).team());
        assertEquals("alice", all.get(0).user());
        assertEquals("m", all.get(0).model());
        assertEquals(null, all.get(2).team());
        assertEquals(null, all.get(2).model());
    }

    @Test
    void auditQueriesFilterByTeamUserAndModel() throws Exception {
        store.commit(List.of(), List.of(), List.of(event("a", "u1", "m1", "1"), event("a", "u2", "m1", "2"),
                event("b", "u1", "m2", "3"), event("a", "u1", "m2", "4"), event(null, "u1", null, "5")));
        RepositoryStore o = other();
        assertEquals(List.of("1", "2", "4"), details(readAll(o, new AuditQuery("a", null, null, 0, Long.MAX_VALUE, 0, 10))));
        assertEquals(List.of("1", "3", "4", "5"), details(readAll(o, new AuditQuery(null, "u1", null, 0, Long.MAX_VALUE, 0, 10))));
        assertEquals(List.of("3", "4"), details(readAll(o, new AuditQuery(null, null, "m2", 0, Long.MAX_VALUE, 0, 10))));
        assertEquals(List.of("4"), details(readAll(o, new AuditQuery("a", "u1", "m2", 0, Long.MAX_VALUE, 0, 10))));
        assertEquals(List.of(), details(readAll(o, new AuditQuery("c", null, null, 0, Long.MAX_VALUE, 0, 10))));
    }

    @Test
    void auditQueriesFilterByTime() throws Exception {
        store.commit(List.of(), List.of(), List.of(event("a", "u", "m", "x")));
        AuditEntry e = other().audit(AuditQuery.all(1)).entries().get(0);
        RepositoryStore o = other();
        assertEquals(1, readAll(o, new AuditQuery(null, null, null, e.timeMs(), e.timeMs() + 1, 0, 10)).size());
        assertEquals(0, readAll(o, new AuditQuery(null, null, null, e.timeMs() + 1, Long.MAX_VALUE, 0, 10)).size());
        assertEquals(0, readAll(o, new AuditQuery(null, null, null, 0, e.timeMs(), 0, 10)).size());
    }

    @Test
    void auditPagesFollowTheCursorAndEnd() throws Exception {
        List<AuditEvent> events = new ArrayList<>();
        for (int i = 0; i < 23; i++) {
            events.add(event("t", "u", "m", Integer.toString(i)));
        }
        store.commit(List.of(), List.of(), events);
        RepositoryStore o = other();
        AuditPage first = o.audit(AuditQuery.all(10));
        assertEquals(10, first.entries().size());
        assertFalse(first.end());
        List<AuditEntry> all = readAll(o, AuditQuery.all(10));
        assertEquals(23, all.size());
        for (int i = 0; i < 23; i++) {
            assertEquals(Integer.toString(i), new String(all.get(i).detail(), UTF_8));
        }
        AuditPage last = o.audit(AuditQuery.all(10).after(all.get(22).seq()));
        assertEquals(List.of(), last.entries());
        assertTrue(last.end());
    }

    @Test
    void aRareMatchBehindManyOthersIsFoundByPaging() throws Exception {
        for (int batch = 0; batch < 3; batch++) {
            store.commit(List.of(), List.of(), Collections.nCopies(RepositoryStore.MAX_WRITES,
                    event("busy", "u", "m", "noise")));
        }
        store.commit(List.of(), List.of(), List.of(event("quiet", "v", "q", "needle")));
        List<AuditEntry> found = readAll(other(), new AuditQuery("quiet", null, null, 0, Long.MAX_VALUE, 0, 5));
        assertEquals(List.of("needle"), details(found));
    }
}
