/**
 * The metadata engine SPI: where a volume's namespace and file layout live. Implement
 * {@link io.hangar.spi.meta.MetadataEngine} and register a {@link io.hangar.spi.meta.MetadataEngineProvider};
 * pass the conformance kit in platform-core's test artifact.
 */
@Export
@Version("1.5.0")
package io.hangar.spi.meta;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
