package io.hangar.vfs.standalone;

import io.hangar.fs.Errno;
import io.hangar.fs.FsException;

/**
 * Formatting or opening a volume failed for a reason of the volume itself (as opposed to an operation in
 * it). {@link #reason()} tells tools which, so that they need not read the message.
 */
public class VolumeOpenException extends FsException {
    private static final long serialVersionUID = 1L;

    /** Why a volume could not be formatted or opened. */
    public enum Reason {
        /** The metadata URL holds no volume. */
        NOT_FORMATTED(Errno.ENOENT),
        /** No metadata engine or chunk store is installed for the URL's scheme. */
        NO_PROVIDER(Errno.EINVAL),
        /** The metadata URL or storage URL, the name or an option is malformed. */
        BAD_ARGUMENT(Errno.EINVAL),
        /** The chunk store does not hold this volume (no marker, or another volume's). */
        WRONG_STORE(Errno.EINVAL),
        /** Formatting metadata or a store that already holds another volume. */
        ALREADY_FORMATTED(Errno.EEXIST);

        private final Errno errno;

        Reason(Errno errno) {
            this.errno = errno;
        }
    }

    private final Reason reason;

    public VolumeOpenException(Reason reason, String message) {
        super(reason.errno, message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
