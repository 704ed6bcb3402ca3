/**
 * Sync between volumes: {@link io.hangar.sync.VolumeSync} copies a tree from one volume to another (separate
 * metadata engines and chunk stores), blocks store to store and metadata per file, incrementally. Registered
 * as a service by platform-core; outside a framework {@code io.hangar.vfs.standalone.Volumes#sync()}.
 */
@Export
@Version("1.1.0")
package io.hangar.sync;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
