/**
 * Opening and formatting volumes outside an OSGi framework (the CLI, benchmarks, tests): engines and stores
 * are found with {@link java.util.ServiceLoader} by URL scheme.
 */
@Export
@Version("1.3.0")
package io.hangar.vfs.standalone;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
