package io.hangar.spi.frontend;

import io.hangar.fs.FsException;
import java.util.concurrent.CompletionStage;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * One volume served by a {@link Frontend} at one address. It ends when {@link #close()} is called or when
 * something outside stops it (a FUSE mount unmounted with {@code fusermount -u}); either way
 * {@link #ended()} completes, so that whoever started it can release what it holds.
 */
@ConsumerType
public interface Endpoint extends AutoCloseable {
    /** The {@link Frontend#kind()} that serves it. */
    String kind();

    /** The name of the volume served. */
    String volume();

    /** Where clients reach it: the mount point, or the URL listened on. */
    String address();

    boolean readOnly();

    /** The directory of the volume served as the root, "/" for the whole volume. */
    String subdir();

    /** True until the endpoint has stopped serving. */
    boolean active();

    /**
     * Completes when the endpoint stops serving: normally after {@link #close()} or an external stop, with
     * an exception if serving failed.
     */
    CompletionStage<Void> ended();

    /**
     * Stops serving and waits until clients are detached: open files are released and buffered writes
     * committed. Idempotent. The volume itself stays open; it belongs to whoever started the endpoint.
     */
    @Override
    void close() throws FsException;
}
