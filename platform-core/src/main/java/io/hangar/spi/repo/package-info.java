/**
 * The repository store SPI: where a site's model repository (teams, users, credentials, models, versions,
 * manifests, tags, approvals, audit) is kept, in the same backend as the volume's metadata, so that one
 * SQLite file or one Redis database holds a whole site and one metadata backup carries it.
 *
 * <p>The SPI is deliberately small: a store of keyed records with atomic, conditional multi-record commits,
 * and an append-only audit log. What the records mean (roles, lifecycle, tags) is decided once, in the
 * platform's repository service; a store only keeps bytes, atomically. Implement
 * {@link io.hangar.spi.repo.RepositoryStore}, register a {@link io.hangar.spi.repo.RepositoryStoreProvider}
 * for the metadata URL schemes of your engine, and pass the conformance kit
 * {@code io.hangar.tck.repo.RepositoryStoreTck} in platform-core's test artifact.
 */
@Export
@Version("1.0.0")
package io.hangar.spi.repo;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
