package io.hangar.frontend.http.repo;

import io.hangar.fs.Errno;
import io.hangar.fs.FsException;

/** A refusal of the REST API: an HTTP status, a stable code clients can test, and a one-line message. */
final class RepoError extends Exception {
    private static final long serialVersionUID = 1L;
    final int status;
    final String code;

    RepoError(int status, String code, String message) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
    }

    static RepoError bad(String message) {
        return new RepoError(400, "BadRequest", message);
    }

    static RepoError denied(String message) {
        return new RepoError(403, "AccessDenied", message);
    }

    static RepoError notFound(String message) {
        return new RepoError(404, "NotFound", message);
    }

    static RepoError conflict(String message) {
        return new RepoError(409, "Conflict", message);
    }

    static RepoError unauthenticated(String message) {
        return new RepoError(401, "Unauthenticated", message);
    }

    /** A volume error as the API reports it: the errno decides the status. */
    static RepoError of(FsException e) {
        Errno n = e.errno();
        return switch (n) {
            case ENOENT -> new RepoError(404, "NotFound", e.getMessage());
            case EEXIST -> new RepoError(409, "Conflict", e.getMessage());
            case EPERM, EACCES, EROFS -> new RepoError(403, "AccessDenied", e.getMessage());
            case EINVAL, ENAMETOOLONG, ENOTDIR, EISDIR -> new RepoError(400, "BadRequest", e.getMessage());
            case ENOSPC, EFBIG -> new RepoError(507, "InsufficientStorage", e.getMessage());
            case EAGAIN -> new RepoError(503, "Unavailable", e.getMessage());
            default -> new RepoError(500, "InternalError", n + ": " + e.getMessage());
        };
    }
}
