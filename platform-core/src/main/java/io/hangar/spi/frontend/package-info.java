/**
 * The frontend SPI: ways of serving a {@link io.hangar.vfs.Volume} to clients (a FUSE mount, later an HTTP or
 * S3 gateway). A frontend bundle registers one {@link io.hangar.spi.frontend.Frontend} service per kind; each
 * {@link io.hangar.spi.frontend.Frontend#start start} serves one volume at one address until it is closed.
 */
@Export
@Version("1.0.0")
package io.hangar.spi.frontend;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
