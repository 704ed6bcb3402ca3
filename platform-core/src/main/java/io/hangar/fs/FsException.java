package io.hangar.fs;

import java.io.IOException;

/**
 * A file-system operation failed with a POSIX error. Metadata engines, the VFS and frontends all speak this
 * one exception so the errno survives every layer unchanged.
 */
public class FsException extends IOException {
    private static final long serialVersionUID = 1L;
    private final Errno errno;

    public FsException(Errno errno, String message) {
        super(errno + ": " + message);
        this.errno = errno;
    }

    public FsException(Errno errno, String message, Throwable cause) {
        super(errno + ": " + message, cause);
        this.errno = errno;
    }

    public Errno errno() {
        return errno;
    }

    /** True for failures worth retrying later (backend unreachable, timeout), as opposed to a POSIX verdict. */
    public boolean transientFailure() {
        return errno == Errno.EAGAIN || errno == Errno.ETIMEDOUT || errno == Errno.EIO;
    }
}
