package io.hangar.fs;

/**
 * The POSIX error numbers Hangar reports, with their Linux values so that a FUSE frontend can hand them to
 * the kernel unchanged.
 */
public enum Errno {
    EPERM(1), ENOENT(2), EIO(5), E2BIG(7), EBADF(9), EAGAIN(11), ENOMEM(12), EACCES(13), EBUSY(16), EEXIST(17),
    EXDEV(18), ENOTDIR(20), EISDIR(21), EINVAL(22), EFBIG(27), ENOSPC(28), EROFS(30), EMLINK(31),
    ERANGE(34), ENAMETOOLONG(36), ENOTEMPTY(39), ELOOP(40), ENODATA(61), EOPNOTSUPP(95), ETIMEDOUT(110);

    private final int value;

    Errno(int value) {
        this.value = value;
    }

    /** The Linux numeric value (positive). */
    public int value() {
        return value;
    }
}
