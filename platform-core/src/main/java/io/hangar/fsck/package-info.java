/**
 * Consistency checking and garbage collection of a volume: {@link io.hangar.fsck.VolumeCheck} (fsck: metadata
 * and chunk store agree; gc: blocks nothing references are removed). Obtained from a served
 * {@link io.hangar.vfs.Volume} or, outside the framework, from {@code io.hangar.vfs.standalone.Volumes}.
 */
@Export
@Version("1.0.0")
package io.hangar.fsck;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
