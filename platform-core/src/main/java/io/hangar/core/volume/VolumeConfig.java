package io.hangar.core.volume;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** One served volume: a factory configuration per volume, e.g. {@code etc/io.hangar.volume~default.cfg}. */
@ObjectClassDefinition(name = "Hangar volume", description = "A volume this runtime opens and serves.")
public @interface VolumeConfig {
    String PID = "io.hangar.volume";

    @AttributeDefinition(description = "Volume name (as formatted).")
    String name();

    @AttributeDefinition(description = "Metadata URL, e.g. sqlite:///var/lib/hangar/meta.db or redis://host:6379/1")
    String meta();

    @AttributeDefinition(required = false, description = "Chunk store URL to format the volume with when the "
            + "metadata is still empty (first start). Ignored once formatted.")
    String storage() default "";

    @AttributeDefinition(required = false, description = "Block size to format with, e.g. 4M (64K-16M).")
    String blockSize() default "4M";

    @AttributeDefinition(required = false, description = "Capacity to format with, e.g. 10T; 0 = unlimited.")
    String capacity() default "0";

    @AttributeDefinition(required = false, description = "Inode limit to format with; 0 = unlimited.")
    long inodes() default 0;

    @AttributeDefinition(required = false, description = "Memory for write buffers, e.g. 256M")
    String bufferSize() default "256M";

    @AttributeDefinition(required = false, description = "Memory for the block cache, e.g. 512M")
    String cacheSize() default "512M";

    @AttributeDefinition(required = false, description = "Directories of the disk block cache, separated by ':' "
            + "(absolute paths); empty or 'memory': the in-memory cache alone")
    String cacheDir() default "";

    @AttributeDefinition(required = false, description = "Size of the disk block cache in all its directories, "
            + "e.g. 100G")
    String diskCacheSize() default "100G";

    @AttributeDefinition(required = false, description = "Free share of a cache disk below which no block is "
            + "cached there (least recently used blocks are evicted), e.g. 0.1")
    String freeSpaceRatio() default "0.1";

    @AttributeDefinition(required = false, description = "Keep written blocks in the disk block cache too")
    boolean cacheWrites() default false;

    @AttributeDefinition(required = false, description = "The cache group this volume's process joins (members "
            + "share their block caches by consistent hashing); empty: none")
    String cacheGroup() default "";

    @AttributeDefinition(required = false, description = "HOST[:PORT] the cache group's members reach this one at "
            + "(it listens there); empty: this host's first non-loopback IPv4 address, any free port")
    String groupAddress() default "";

    @AttributeDefinition(required = false, description = "Join the cache group as a client that owns no blocks "
            + "(fetches from the owners, serves nothing of its own)")
    boolean noSharing() default false;

    @AttributeDefinition(required = false, description = "Read-ahead window of a sequential reader, e.g. 64M")
    String readAhead() default "64M";

    @AttributeDefinition(required = false, description = "Parallel block uploads")
    int uploadThreads() default 16;

    @AttributeDefinition(required = false, description = "How long I/O waits for an absent chunk store (ms)")
    long storeWaitMs() default 300_000;
}
