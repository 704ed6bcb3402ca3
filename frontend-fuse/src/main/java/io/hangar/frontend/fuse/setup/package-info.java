/**
 * What a FUSE mount needs on this machine (libfuse 3: {@code libfuse3.so.3} and {@code fusermount3}) and
 * what to do when it is missing: one decision, used by the mount itself and by {@code hangar mount} and
 * {@code hangar up} before they start a runtime.
 */
@Export
@Version("1.0.0")
package io.hangar.frontend.fuse.setup;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
