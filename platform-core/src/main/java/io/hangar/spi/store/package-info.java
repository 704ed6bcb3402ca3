/**
 * The chunk store SPI: where a volume's immutable block objects live. Implement
 * {@link io.hangar.spi.store.ChunkStore}, register a {@link io.hangar.spi.store.ChunkStoreProvider} and pass
 * the conformance kit in platform-core's test artifact.
 */
@Export
@Version("1.1.0")
package io.hangar.spi.store;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
