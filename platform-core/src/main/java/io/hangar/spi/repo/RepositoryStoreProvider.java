package io.hangar.spi.repo;

import io.hangar.fs.FsException;
import java.net.URI;
import java.util.Set;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Opens the repository store that lives beside a metadata engine, for the metadata URL schemes it handles.
 * Registered as an OSGi service by engine bundles and listed in {@code META-INF/services} for
 * {@link java.util.ServiceLoader}, like {@link io.hangar.spi.meta.MetadataEngineProvider}.
 */
@ConsumerType
public interface RepositoryStoreProvider {
    /** The metadata URL schemes whose backends this provider keeps repositories in, lower case. */
    Set<String> schemes();

    /** Connects to the backend named by the metadata URL {@code url}. EIO with a clear message if unreachable. */
    RepositoryStore open(URI url) throws FsException;
}
