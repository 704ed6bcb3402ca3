package io.hangar.frontend.fuse;

import io.hangar.fs.Errno;
import io.hangar.fs.FsException;

/** Linux errno values FUSE callbacks return negated; the ones {@link Errno} has no constant for are here. */
public final class Errnos {
    public static final int EINTR = 4;
    public static final int EAGAIN = Errno.EAGAIN.value();
    public static final int EDEADLK = 35;

    private Errnos() {
    }

    /** A lock request that cannot be granted; carries the errno, since {@link Errno} lacks EINTR and EDEADLK. */
    public static final class LockFailure extends Exception {
        private static final long serialVersionUID = 1L;
        public final int errno;

        LockFailure(int errno, String message) {
            super(message, null, false, false);
            this.errno = errno;
        }
    }

    public static int negative(FsException e) {
        return -e.errno().value();
    }
}
