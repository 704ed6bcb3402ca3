package io.hangar.frontend.http.s3;

import io.hangar.fs.Errno;
import io.hangar.fs.FsException;

/**
 * An S3 error: its code, HTTP status and message, answered as the S3 XML error body. Thrown anywhere while a
 * request is handled; the handler turns it into the response.
 */
class S3Error extends Exception {
    private static final long serialVersionUID = 1L;
    final int status;
    final String code;

    S3Error(int status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    static S3Error noSuchBucket(String bucket) {
        return new S3Error(404, "NoSuchBucket", "The specified bucket does not exist: " + bucket);
    }

    static S3Error noSuchKey(String key) {
        return new S3Error(404, "NoSuchKey", "The specified key does not exist: " + key);
    }

    static S3Error noSuchUpload(String id) {
        return new S3Error(404, "NoSuchUpload", "The specified multipart upload does not exist: " + id);
    }

    static S3Error invalidArgument(String message) {
        return new S3Error(400, "InvalidArgument", message);
    }

    static S3Error invalidRequest(String message) {
        return new S3Error(400, "InvalidRequest", message);
    }

    static S3Error malformedXml(String message) {
        return new S3Error(400, "MalformedXML", "The XML you provided was not well-formed or did not validate: "
                + message);
    }

    static S3Error notImplemented(String what) {
        return new S3Error(501, "NotImplemented", "A header or query you provided implies functionality that is "
                + "not implemented: " + what);
    }

    static S3Error accessDenied(String message) {
        return new S3Error(403, "AccessDenied", message);
    }

    /** 503 SlowDown: the gateway holds as much as it may; clients retry with backoff. */
    static S3Error slowDown(String message) {
        return new S3Error(503, "SlowDown", "Please reduce your request rate: " + message);
    }

    static S3Error internal(String message) {
        return new S3Error(500, "InternalError", message);
    }

    static S3Error preconditionFailed() {
        return new S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
    }

    /** The S3 error a volume failure means for an object operation. */
    static S3Error of(FsException e, String key) {
        Errno n = e.errno();
        switch (n) {
            case ENOENT:
                return noSuchKey(key);
            case ENOSPC:
                return new S3Error(507, "InsufficientStorage", "the volume is full: " + e.getMessage());
            case ENAMETOOLONG:
                return new S3Error(400, "KeyTooLongError", "a path segment of the key is too long: " + key);
            case EISDIR:
            case ENOTDIR:
            case EEXIST:
            case ENOTEMPTY:
                return new S3Error(409, "InvalidRequest", "the key conflicts with a directory or object of the "
                        + "volume (an object and a prefix of the same name cannot coexist): " + key);
            case EROFS:
            case EACCES:
            case EPERM:
                return accessDenied("the volume refused: " + e.getMessage());
            case EFBIG:
                return new S3Error(400, "EntityTooLarge", "the object is larger than the volume allows");
            case EAGAIN:
            case ETIMEDOUT:
                return new S3Error(503, "ServiceUnavailable", "the volume is unavailable: " + e.getMessage());
            default:
                return internal(e.getMessage());
        }
    }
}
