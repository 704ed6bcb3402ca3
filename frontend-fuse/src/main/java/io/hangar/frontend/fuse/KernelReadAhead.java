package io.hangar.frontend.fuse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Logger;

/**
 * Raises the kernel's read-ahead for a FUSE mount. The kernel gives every FUSE mount 128 KiB of read-ahead,
 * so a sequential reader has one 128 KiB request in flight at a time and waits a round trip per request;
 * with a larger window the kernel keeps several requests in flight, which the multi-threaded loop answers
 * in parallel from blocks the VFS has prefetched. Setting it needs root; elsewhere the default stays.
 */
final class KernelReadAhead {
    private static final Logger LOG = Logger.getLogger(KernelReadAhead.class.getName());

    private KernelReadAhead() {
    }

    static void raise(Path mountpoint, int kib) {
        try {
            long dev = ((Number) Files.getAttribute(mountpoint, "unix:dev")).longValue();
            // Linux's dev_t encoding (gnu_dev_major / gnu_dev_minor).
            long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
            long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
            Path knob = Path.of("/sys/class/bdi", major + ":" + minor, "read_ahead_kb");
            Files.writeString(knob, Integer.toString(kib));
            LOG.fine("kernel read-ahead of " + mountpoint + " set to " + kib + " KiB (" + knob + ")");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            LOG.info("kernel read-ahead of " + mountpoint + " stays at its default: " + e.getMessage());
        }
    }
}
