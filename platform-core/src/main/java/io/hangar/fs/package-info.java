/**
 * The file-system vocabulary every Hangar layer shares: inode attributes, directory entries, POSIX error
 * numbers and flags. Engines, the VFS and frontends exchange these types.
 */
@Export
@Version("1.2.0")
package io.hangar.fs;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
