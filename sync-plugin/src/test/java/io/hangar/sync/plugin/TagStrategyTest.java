package io.hangar.sync.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.hangar.spi.sync.RepoChange;
import io.hangar.spi.sync.SyncRequest;
import io.hangar.spi.sync.SyncStrategy;
import io.hangar.sync.plugin.tags.TagStrategy;
import io.hangar.tck.sync.SyncStrategyTck;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The tag-driven strategy: the conformance kit, and what it selects. */
class TagStrategyTest extends SyncStrategyTck {
    @Override
    protected SyncStrategy newStrategy() {
        return new TagStrategy("sync-*", Set.of(), true);
    }

    @Test
    void aTagChangeSyncsTheVersionsItsSelectorMatches() throws Exception {
        List<SyncRequest> r = new TagStrategy("sync-b", Set.of(), true).due(0,
                List.of(new RepoChange(7, 0, "tag.set", TEAM, "m4")), new Source());
        assertEquals(List.of(new SyncRequest("/vision/m4/v2", true, "tag sync-b after tag.set")), r);
        List<SyncRequest> prefix = new TagStrategy("sync-*", Set.of(), false).due(0,
                List.of(new RepoChange(7, 0, "version.release", TEAM, "m4")), new Source());
        assertEquals(Set.of("/vision/m4/v2", "/vision/m4/v3"), Set.copyOf(prefix.stream().map(SyncRequest::path).toList()));
    }

    @Test
    void versionsPastOneAnswerAreAnsweredByTheNextCalls() throws Exception {
        // 3000 models with two selected versions each: 6000 requests, 1000 an answer, none dropped.
        TagStrategy s = new TagStrategy("sync-*", Set.of(), false);
        Set<String> paths = new java.util.HashSet<>();
        List<SyncRequest> r = s.due(0, changes(MODELS, "tag.set"), new Source());
        List<Integer> sizes = new java.util.ArrayList<>();
        while (true) {
            sizes.add(r.size());
            r.forEach(q -> paths.add(q.path()));
            if (r.size() < SyncStrategy.MAX_REQUESTS) {
                break;
            }
            r = s.due(0, List.of(), new Source());
        }
        assertEquals(List.of(1000, 1000, 1000, 1000, 1000, 1000, 0), sizes);
        assertEquals(2 * MODELS, paths.size());
        assertEquals(true, paths.contains("/vision/m2999/v3"));
        assertEquals(List.of("/vision/m0/v2", "/vision/m0/v3"), new TagStrategy("sync-*", Set.of(), false)
                .due(0, List.of(new RepoChange(1, 0, "tag.set", TEAM, "m0")), new Source()).stream()
                .map(SyncRequest::path).toList(), "in the order found: model by model, tags sorted");
    }

    @Test
    void otherTeamsAndReadsAreIgnored() throws Exception {
        TagStrategy s = new TagStrategy("sync-b", Set.of("nlp"), true);
        assertEquals(List.of(), s.due(0, List.of(new RepoChange(1, 0, "tag.set", TEAM, "m1")), new Source()));
        TagStrategy any = new TagStrategy("sync-b", Set.of(), true);
        assertEquals(List.of(), any.due(0, List.of(new RepoChange(1, 0, "share.add", TEAM, "m1"),
                new RepoChange(2, 0, "token.issue", TEAM, "m1")), new Source()));
    }

    @Test
    void aSelectorMustNameSomething() {
        assertThrows(IllegalArgumentException.class, () -> new TagStrategy("", Set.of(), true));
        assertThrows(IllegalArgumentException.class, () -> new TagStrategy("*", Set.of(), true));
    }

    @Test
    void itsDescriptionIsTheSameForTheSameConfigurationInEveryRun() {
        // The runner keeps status and position under it; a set's order changes from one JVM to the next.
        assertEquals("tags sync-b of a,b,c", new TagStrategy("sync-b", Set.of("c", "a", "b"), true).describe());
        assertEquals("tags sync-b", new TagStrategy("sync-b", Set.of(), true).describe());
    }
}
