package io.hangar.spi.store;

import java.io.IOException;

/**
 * A chunk store operation failed. Backends map whatever their client raises onto one of the {@link Kind}s so
 * that callers can decide uniformly: retry what is {@link Kind#TRANSIENT}, report the rest.
 */
public class StoreException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The documented failure kinds of a chunk store. */
    public enum Kind {
        /** The object does not exist. */
        NOT_FOUND,
        /** Timeout, connection loss, throttling, a store that is stopping or restarting: try again later. */
        TRANSIENT,
        /** Credentials refused or not allowed for this bucket, pool or directory. */
        PERMISSION,
        /** The backend has no space or quota left. */
        FULL,
        /** The request itself is wrong (bad key, bad range); retrying will not help. */
        INVALID
    }

    private final Kind kind;

    public StoreException(Kind kind, String message) {
        super(kind + ": " + message);
        this.kind = kind;
    }

    public StoreException(Kind kind, String message, Throwable cause) {
        super(kind + ": " + message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    public boolean isTransient() {
        return kind == Kind.TRANSIENT;
    }
}
