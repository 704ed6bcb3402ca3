package io.hangar.frontend.fuse;

import io.hangar.fs.FsException;
import java.util.concurrent.CompletableFuture;

/**
 * The file system side of one mount ({@code lowlevel.LowLevelFs}: libfuse 3's low-level API).
 * {@link FuseMount} runs it on a thread of its own and owns the mount's lifecycle. Public for the
 * {@code lowlevel} package.
 */
public interface FuseSession {
    /** Mounts and runs libfuse's multi-threaded loop on this thread until unmounted; libfuse's status. */
    int serve();

    /** Completes once the kernel has sent INIT: the mount exists and requests are being served. */
    CompletableFuture<Void> initialized();

    /** Makes lock waits give up: the mount is going away. */
    void stopping();

    /** Closes what the kernel left open and drops this mount's locks; the first failure to commit, if any. */
    FsException releaseAll();
}
