package io.hangar.core.sync;

import io.hangar.metrics.MeterSet;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The sync meters (docs/metrics.md), labelled with the destination volume ({@code volume}, as every Hangar
 * meter is) and the source volume ({@code source}): made when the first sync of that pair starts, so a
 * process that syncs nothing serves none.
 */
public final class SyncMetrics {
    private final MeterRegistry registry;
    private final Map<String, Pair> pairs = new ConcurrentHashMap<>();

    public SyncMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    Pair of(String source, String destination) {
        return pairs.computeIfAbsent(source + "\n" + destination, k -> new Pair(registry, source, destination));
    }

    public void close() {
        pairs.values().forEach(p -> p.set.close());
        pairs.clear();
    }

    /** The meters of syncs from one volume into another. */
    static final class Pair {
        private final MeterSet set;
        final Counter scanned;
        final Counter copiedFiles;
        final Counter copiedBytes;
        final Counter skipped;
        final Counter conflicts;
        final Counter failed;

        Pair(MeterRegistry registry, String source, String destination) {
            set = new MeterSet(registry, Tags.of("volume", destination, "source", source));
            scanned = set.counter("hangar_sync_scanned", null, "files and directories syncs examined at the source");
            copiedFiles = set.counter("hangar_sync_copied_files", null, "files syncs applied at the destination");
            copiedBytes = set.counter("hangar_sync_copied", "bytes", "block bytes syncs copied store to store");
            skipped = set.counter("hangar_sync_skipped", null, "files syncs found unchanged");
            conflicts = set.counter("hangar_sync_conflicts", null, "paths changed at both ends, left as they are");
            failed = set.counter("hangar_sync_failed", null, "files syncs could not apply");
        }
    }
}
