package io.hangar.spi.meta;

import io.hangar.fs.FsException;
import java.net.URI;
import java.util.Set;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Opens metadata engines for the URL schemes it handles ({@code sqlite}, {@code redis}, …). Registered as an
 * OSGi service by engine bundles, and listed in {@code META-INF/services} so tools running outside the
 * framework find it with {@link java.util.ServiceLoader}.
 */
@ConsumerType
public interface MetadataEngineProvider {
    /** The URL schemes this provider opens, lower case. */
    Set<String> schemes();

    /** Connects to the backend named by {@code url}. EIO with a clear message if it cannot be reached. */
    MetadataEngine open(URI url) throws FsException;
}
