package io.hangar.sync.plugin.tags;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** A tag-driven sync: {@code etc/io.hangar.sync.tags-<name>.cfg} (docs/sync.md). */
@ObjectClassDefinition(name = "Hangar tag-driven sync",
        description = "Syncs the model versions whose tags match a selector when they are uploaded, tagged or "
                + "released at the source, then warms them at the destination.")
public @interface TagConfig {
    String PID = "io.hangar.sync.tags";

    @AttributeDefinition(description = "The source volume's metadata URL.")
    String sync_source();

    @AttributeDefinition(description = "The destination volume's metadata URL.")
    String sync_destination();

    @AttributeDefinition(description = "Tags that select a version for this destination: a name, or a prefix "
            + "ending in '*' (sync-b, sync-*).")
    String selector();

    @AttributeDefinition(description = "Only models of these teams (empty: every team).")
    String[] teams() default {};

    @AttributeDefinition(description = "Block copies in flight (1-256; each holds one block in memory).")
    int sync_threads() default 8;

    @AttributeDefinition(description = "Block bytes copied per second at most; 0 for no limit.")
    long sync_bwlimit() default 0;

    @AttributeDefinition(description = "Warm synced versions into this cache group of the destination; empty "
            + "for none.")
    String sync_warm_group() default "";
}
