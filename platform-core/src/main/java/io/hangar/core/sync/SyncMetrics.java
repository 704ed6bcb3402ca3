package io.hangar.core.sync;

import io.hangar.metrics.MeterSet;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** The sync meters (docs/metrics.md): one set per process, tagged with nothing (each sync is short-lived). */
public final class SyncMetrics {
    private final MeterSet set;
    final Counter scanned;
    final Counter copiedFiles;
    final Counter copiedBytes;
    final Counter skipped;
    final Counter conflicts;
    final Counter failed;

    public SyncMetrics(MeterRegistry registry) {
        set = new MeterSet(registry, Tags.empty());
        scanned = set.counter("hangar_sync_scanned", null, "files and directories a sync examined at its source");
        copiedFiles = set.counter("hangar_sync_copied_files", null, "files a sync applied at its destination");
        copiedBytes = set.counter("hangar_sync_copied", "bytes", "block bytes a sync copied store to store");
        skipped = set.counter("hangar_sync_skipped", null, "files a sync found unchanged");
        conflicts = set.counter("hangar_sync_conflicts", null, "paths changed at both ends, left as they are");
        failed = set.counter("hangar_sync_failed", null, "files a sync could not apply");
    }

    /** Meters nobody reads (the command line without a registry). */
    public static SyncMetrics unread() {
        return new SyncMetrics(new SimpleMeterRegistry());
    }

    public void close() {
        set.close();
    }
}
