package io.hangar.frontend.fuse;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * One FUSE mount of a served volume: a factory configuration per mount, e.g.
 * {@code etc/io.hangar.frontend.fuse~models.cfg}. Written by {@code hangar mount} and {@code hangar up}.
 */
@ObjectClassDefinition(name = "Hangar FUSE mount", description = "Mounts a volume this runtime serves with FUSE.")
@interface FuseMountConfig {
    String PID = "io.hangar.frontend.fuse";

    @AttributeDefinition(description = "Name of the volume to mount (an io.hangar.volume configuration).")
    String volume();

    @AttributeDefinition(description = "Existing empty directory to mount on.")
    String mountpoint();

    @AttributeDefinition(required = false, description = "Refuse every change with EROFS.")
    boolean readOnly() default false;

    @AttributeDefinition(required = false, description = "Directory of the volume to serve as the mount's root.")
    String subdir() default "/";

    @AttributeDefinition(required = false, description = "Seconds the kernel caches attributes.")
    double attrTimeout() default 1.0;

    @AttributeDefinition(required = false, description = "Seconds the kernel caches names.")
    double entryTimeout() default 1.0;

    @AttributeDefinition(required = false, description = "Memory for write buffers and read-ahead, e.g. 256M. "
            + "The volume owns its buffers and is shared by every frontend, so inside the framework the "
            + "volume's own bufferSize setting governs; hangar mount writes the same value to both.")
    String bufferSize() default "";

    @AttributeDefinition(required = false, description = "Further libfuse -o options, comma-separated.")
    String options() default "";

    @AttributeDefinition(required = false, description = "Seconds the kernel remembers a missing name.")
    double negativeTimeout() default 0.0;

    @AttributeDefinition(required = false, description = "The kernel's writeback cache (weakens "
            + "close-to-open between clients; docs/frontend-fuse.md).")
    boolean writebackCache() default false;

    @AttributeDefinition(required = false, description = "Stop the whole runtime once this mount ends or "
            + "cannot be made (a runtime started by hangar mount for this mount alone).")
    boolean exitOnUnmount() default false;
}
