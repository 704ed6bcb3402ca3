package io.hangar.cli;

import io.hangar.fs.FsException;
import io.hangar.vfs.standalone.VolumeOpenException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Turns the errors of the VFS and of the local file system into {@link CliException}s with the exit code of
 * their kind. While a volume is being formatted or opened, the {@link VolumeOpenException} reason decides;
 * otherwise (and once it is open) the errno alone does.
 */
public final class Errors {
    private Errors() {
    }

    /** A failure of format, status or open: the volume itself is the problem, not a path in it. */
    public static CliException opening(FsException e) {
        int code;
        if (e instanceof VolumeOpenException v) {
            code = switch (v.reason()) {
                case NOT_FORMATTED, NO_PROVIDER -> ExitCodes.UNKNOWN_VOLUME;
                case WRONG_STORE -> ExitCodes.WRONG_STORE;
                case ALREADY_FORMATTED -> ExitCodes.REFUSED;
                case BAD_ARGUMENT -> ExitCodes.USAGE;
            };
        } else {
            code = switch (e.errno()) {
                case ENOENT -> ExitCodes.UNKNOWN_VOLUME;
                case EIO, EAGAIN, ETIMEDOUT, EACCES, EPERM -> ExitCodes.UNREACHABLE;
                case ENOSPC -> ExitCodes.NO_SPACE;
                case EEXIST -> ExitCodes.REFUSED;
                case EINVAL -> ExitCodes.USAGE;
                default -> ExitCodes.FAILURE;
            };
        }
        return new CliException(code, e.getMessage(), e);
    }

    /** A failure of an operation on an open volume. */
    public static CliException operating(FsException e) {
        int code = switch (e.errno()) {
            case ENOENT -> ExitCodes.NOT_FOUND;
            case ENOSPC, EFBIG -> ExitCodes.NO_SPACE;
            case EIO, EAGAIN, ETIMEDOUT -> ExitCodes.UNREACHABLE;
            default -> ExitCodes.REFUSED;
        };
        return new CliException(code, e.getMessage(), e);
    }

    /** A failure reading or writing a local file. */
    public static CliException local(IOException e, Path file) {
        if (e instanceof FsException fs) {
            return operating(fs);
        }
        if (e instanceof NoSuchFileException) {
            return new CliException(ExitCodes.NOT_FOUND, file + ": no such file or directory", e);
        }
        if (e instanceof AccessDeniedException) {
            return new CliException(ExitCodes.REFUSED, file + ": permission denied", e);
        }
        if (e instanceof FileAlreadyExistsException) {
            return new CliException(ExitCodes.REFUSED, file + ": exists", e);
        }
        if (e instanceof DirectoryNotEmptyException) {
            return new CliException(ExitCodes.REFUSED, file + ": directory not empty", e);
        }
        if (e instanceof NotDirectoryException) {
            return new CliException(ExitCodes.REFUSED, file + ": not a directory", e);
        }
        // The reason alone: the exception's message names the temporary file a copy was writing.
        String reason = e instanceof FileSystemException f && f.getReason() != null ? f.getReason()
                : String.valueOf(e.getMessage());
        if (reason.contains("No space left on device")) {
            return new CliException(ExitCodes.NO_SPACE, file + ": no space left on the local disk", e);
        }
        if (reason.contains("Not a directory") || reason.contains("Is a directory")
                || reason.contains("Read-only file system")) {
            return new CliException(ExitCodes.REFUSED, file + ": " + reason.toLowerCase(Locale.ROOT), e);
        }
        return new CliException(ExitCodes.FAILURE, file + ": " + reason, e);
    }
}
