package io.hangar.tck.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.spi.sync.RepoChange;
import io.hangar.spi.sync.SourceView;
import io.hangar.spi.sync.SyncRequest;
import io.hangar.spi.sync.SyncStrategy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The conformance kit of {@link SyncStrategy}: the rules in its class comment. A subclass supplies
 * {@link #newStrategy()} (a fresh instance per call, configured to select models of team {@link #TEAM}), and
 * may say whether its strategy acts on repository changes at all ({@link #actsOnChanges()}). The kit's source
 * repository holds {@link #MODELS} models of {@link #TEAM}, each with tags {@code prod}, {@code sync-b} and
 * {@code sync-c} on versions 1, 2 and 3.
 */
public abstract class SyncStrategyTck {
    protected static final String TEAM = "vision";
    protected static final int MODELS = 3000;
    private static final long T0 = 1_800_000_000_000L;

    /** A fresh strategy that selects what the kit's source holds (tag selector {@code sync-*}, or a path). */
    protected abstract SyncStrategy newStrategy() throws Exception;

    /** Whether the strategy answers repository changes (a schedule-only strategy does not). */
    protected boolean actsOnChanges() {
        return true;
    }

    /** The kit's source: every model of {@link #TEAM} named {@code m<i>} has three tags; it counts its calls. */
    protected static final class Source implements SourceView {
        public int calls;

        public Source() {
        }

        @Override
        public Map<String, Integer> tags(String team, String model) {
            calls++;
            if (!team.equals(TEAM) || !model.matches("m[0-9]+")) {
                return Map.of();
            }
            Map<String, Integer> t = new HashMap<>();
            t.put("prod", 1);
            t.put("sync-b", 2);
            t.put("sync-c", 3);
            return t;
        }
    }

    protected static List<RepoChange> changes(int n, String action) {
        List<RepoChange> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new RepoChange(i + 1, T0 + i, action, TEAM, "m" + (i % MODELS)));
        }
        return out;
    }

    @Test
    void answersAreBoundedNormalizedAndNamedOnce() throws Exception {
        SyncStrategy s = newStrategy();
        List<RepoChange> many = new ArrayList<>();
        for (String action : List.of("tag.set", "version.release", "file.put", "version.submit")) {
            many.addAll(changes(MODELS, action));
        }
        List<SyncRequest> r = s.due(T0, many, new Source());
        assertTrue(r.size() <= SyncStrategy.MAX_REQUESTS, "at most MAX_REQUESTS: " + r.size());
        Set<String> seen = new HashSet<>();
        for (SyncRequest q : r) {
            assertTrue(SyncRequest.isNormalPath(q.path()), q.path());
            assertTrue(seen.add(q.path()), "named twice: " + q.path());
            assertFalse(q.reason() == null || q.reason().isBlank(), "a reason for status and logs");
        }
        if (actsOnChanges()) {
            assertFalse(r.isEmpty(), "changes to selected models are answered");
        }
        assertFalse(s.describe().isBlank());
    }

    @Test
    void whatIsPastTheBoundIsAnsweredInTheCallsThatFollowAndNothingTwice() throws Exception {
        // As the runner asks: after a full answer, again with no changes, until an answer is not full.
        SyncStrategy s = newStrategy();
        Source src = new Source();
        List<SyncRequest> r = s.due(T0, changes(MODELS, "tag.set"), src);
        Set<String> all = new HashSet<>();
        int calls = 1;
        while (true) {
            assertTrue(r.size() <= SyncStrategy.MAX_REQUESTS, "at most MAX_REQUESTS: " + r.size());
            for (SyncRequest q : r) {
                assertTrue(all.add(q.path()), "named twice: " + q.path());
            }
            if (r.size() < SyncStrategy.MAX_REQUESTS) {
                break;
            }
            assertTrue(calls++ <= MODELS * 3 / SyncStrategy.MAX_REQUESTS + 1, "the answers come to an end");
            r = s.due(T0, List.of(), src);
        }
        assertEquals(List.of(), s.due(T0 + 1, List.of(), src), "nothing after the answers came to an end");
        assertTrue(src.calls <= MODELS, "at most one look-up per model changed: " + src.calls);
    }

    @Test
    void changesItDoesNotUnderstandAreIgnored() throws Exception {
        List<RepoChange> odd = List.of(new RepoChange(1, T0, "something.new", TEAM, "m1"),
                new RepoChange(2, T0, "user.create", null, null), new RepoChange(3, T0, "", "other-team", "x"),
                new RepoChange(4, T0, "tag.set", "other-team", "m1"), new RepoChange(5, T0, "tag.set", TEAM, null));
        List<SyncRequest> withOdd = newStrategy().due(T0, odd, new Source());
        List<SyncRequest> withNone = newStrategy().due(T0, List.of(), new Source());
        assertEquals(withNone, withOdd, "unknown changes answer what no changes answer");
    }

    @Test
    void aChangeAnsweredIsNotAnsweredAgain() throws Exception {
        SyncStrategy s = newStrategy();
        List<SyncRequest> first = s.due(T0, changes(10, "tag.set"), new Source());
        assertFalse(first.isEmpty(), "the first call answers the changes (or the schedule's first run)");
        assertEquals(List.of(), s.due(T0 + 1, List.of(), new Source()), "nothing new a millisecond later");
    }

    @Test
    void theSourceIsAskedInProportionToTheModelsChanged() throws Exception {
        SyncStrategy s = newStrategy();
        Source src = new Source();
        s.due(T0, changes(5000, "file.put"), src);
        assertTrue(src.calls <= MODELS, "at most one look-up per model changed: " + src.calls);
    }
}
