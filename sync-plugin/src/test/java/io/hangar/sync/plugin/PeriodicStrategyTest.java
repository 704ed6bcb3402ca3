package io.hangar.sync.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.hangar.spi.sync.SyncRequest;
import io.hangar.spi.sync.SyncStrategy;
import io.hangar.sync.plugin.periodic.PeriodicStrategy;
import io.hangar.tck.sync.SyncStrategyTck;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The periodic strategy: the conformance kit, and its schedule. */
class PeriodicStrategyTest extends SyncStrategyTck {
    @Override
    protected SyncStrategy newStrategy() {
        return new PeriodicStrategy("/vision", 60, false);
    }

    @Override
    protected boolean actsOnChanges() {
        return false;
    }

    @Test
    void runsAtOnceThenOncePerInterval() throws Exception {
        PeriodicStrategy s = new PeriodicStrategy("/vision", 60, true);
        List<SyncRequest> first = s.due(1000, List.of(), new Source());
        assertEquals(List.of(new SyncRequest("/vision", true, "every 60 s")), first);
        assertEquals(List.of(), s.due(1000 + 59_999, List.of(), new Source()));
        assertEquals(1, s.due(1000 + 60_000, List.of(), new Source()).size());
        assertEquals(List.of(), s.due(1000 + 60_001, changes(10, "tag.set"), new Source()), "changes do not matter");
    }

    @Test
    void badSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new PeriodicStrategy("vision", 60, false));
        assertThrows(IllegalArgumentException.class, () -> new PeriodicStrategy("/vision", 0, false));
    }
}
