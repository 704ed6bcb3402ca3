/**
 * The sync strategy SPI: what decides <em>when</em> and <em>what</em> to sync from one volume to another.
 * The copying itself (blocks store to store, metadata per file) is the platform's
 * ({@link io.hangar.sync.VolumeSync}); a strategy only turns time and the source repository's changes into
 * {@link io.hangar.spi.sync.SyncRequest}s. Implement {@link io.hangar.spi.sync.SyncStrategy}, register it as
 * an OSGi service with the properties {@link io.hangar.spi.sync.SyncStrategy#SOURCE} and
 * {@link io.hangar.spi.sync.SyncStrategy#DESTINATION}, and pass the conformance kit
 * {@code io.hangar.tck.sync.SyncStrategyTck} in platform-core's test artifact.
 */
@Export
@Version("1.0.0")
package io.hangar.spi.sync;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
