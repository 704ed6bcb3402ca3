package io.hangar.spi.store;

import java.net.URI;
import java.util.Set;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Opens chunk stores for the URL schemes it handles ({@code file}, {@code rados}, {@code s3}, …). Registered
 * as an OSGi service by store bundles, and listed in {@code META-INF/services} for tools outside the
 * framework. When the providing bundle stops, volumes using its stores report "unavailable" until a
 * provider for the scheme returns.
 */
@ConsumerType
public interface ChunkStoreProvider {
    Set<String> schemes();

    /** Opens the store named by {@code url}; TRANSIENT/PERMISSION with a clear message if unreachable. */
    ChunkStore open(URI url) throws StoreException;
}
