/**
 * The virtual file system frontends serve: {@link io.hangar.vfs.Volume} and its open files. Provided by
 * platform-core on top of a metadata engine and a chunk store.
 */
@Export
@Version("1.7.0")
package io.hangar.vfs;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
