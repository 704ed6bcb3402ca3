package io.hangar.sync.plugin.periodic;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** A periodic sync: {@code etc/io.hangar.sync.periodic-<name>.cfg} (docs/sync.md). */
@ObjectClassDefinition(name = "Hangar periodic sync",
        description = "Syncs a tree of one volume to another on a schedule, incrementally.")
public @interface PeriodicConfig {
    String PID = "io.hangar.sync.periodic";

    @AttributeDefinition(description = "The source volume's metadata URL.")
    String sync_source();

    @AttributeDefinition(description = "The destination volume's metadata URL.")
    String sync_destination();

    @AttributeDefinition(description = "The tree to sync, the same path at both ends.")
    String path() default "/";

    @AttributeDefinition(description = "Seconds from the start of one run to the next (at least 1).")
    long interval_seconds() default 3600;

    @AttributeDefinition(description = "Remove at the destination what sync put there and the source no longer has.")
    boolean sync_delete() default false;

    @AttributeDefinition(description = "Block copies in flight (1-256; each holds one block in memory).")
    int sync_threads() default 8;

    @AttributeDefinition(description = "Block bytes copied per second at most; 0 for no limit.")
    long sync_bwlimit() default 0;

    @AttributeDefinition(description = "Warm the synced tree into this cache group of the destination "
            + "after each run that copied something; empty for none.")
    String sync_warm_group() default "";
}
