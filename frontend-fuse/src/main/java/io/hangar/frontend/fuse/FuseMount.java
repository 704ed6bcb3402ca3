package io.hangar.frontend.fuse;

import io.hangar.fs.Entry;
import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.frontend.fuse.lowlevel.LowLevelFs;
import io.hangar.frontend.fuse.lowlevel.LowLevelOptions;
import io.hangar.frontend.fuse.setup.FuseSetup;
import io.hangar.spi.frontend.Endpoint;
import io.hangar.vfs.Volume;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A volume mounted with FUSE: libfuse's loop on a thread of its own, from mount to unmount. The mount ends
 * by {@link #close()} or from outside ({@code fusermount -u}, {@code umount}); either way the files the
 * kernel still had open are closed (committing their writes) and {@link #ended()} completes.
 */
final class FuseMount implements Endpoint {
    static final String KIND = "fuse";
    private static final Logger LOG = Logger.getLogger(FuseMount.class.getName());
    private static final long MOUNT_TIMEOUT_S = 30;
    private static final long UNMOUNT_WAIT_S = 30;

    private final Volume volume;
    private final MountSpec spec;
    private final FuseSession fs;
    private final Thread loop;
    private final CompletableFuture<Void> ended = new CompletableFuture<>();
    private volatile boolean closing;

    private FuseMount(Volume volume, MountSpec spec, FuseSession fs) {
        this.volume = volume;
        this.spec = spec;
        this.fs = fs;
        this.loop = new Thread(this::serve, "hangar-fuse " + spec.mountpoint());
        loop.setDaemon(true);
    }

    /** Kernel read-ahead of a mount: enough requests in flight to keep a sequential reader busy. */
    private static final int READ_AHEAD_KIB = 16 << 10;

    /**
     * Mounts and returns once the kernel talks to the file system; ENOENT/ENOTDIR/ENOTEMPTY/EBUSY for an
     * unusable mount point or subdir, EIO when libfuse3 or the kernel refuse.
     */
    static FuseMount start(Volume volume, MountSpec given, LowLevelOptions ll, MeterRegistry meters)
            throws FsException {
        Path mp = checkMountpoint(given.mountpoint(), given.extraOptions());
        Entry root = volume.resolve(given.subdir());
        if (!root.attr().isDirectory()) {
            throw new FsException(Errno.ENOTDIR, "subdir " + given.subdir() + " is not a directory");
        }
        MountSpec spec = new MountSpec(mp, given.readOnly(), given.subdir(), given.attrTimeout(),
                given.entryTimeout(), given.extraOptions());
        FuseSession fs;
        try {
            fs = new LowLevelFs(volume, root.inode(), spec, ll, FuseSetup.isRoot(), meters);
        } catch (LinkageError | RuntimeException e) {
            throw new FsException(Errno.EIO, "cannot load " + FuseSetup.LIBRARY + ": " + e.getMessage(), e);
        }
        FuseMount m = new FuseMount(volume, spec, fs);
        m.loop.start();
        try {
            CompletableFuture.anyOf(fs.initialized(), m.ended).get(MOUNT_TIMEOUT_S, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            m.close();
            throw new FsException(Errno.EIO, "interrupted while mounting " + mp);
        } catch (ExecutionException e) {
            // The loop ended before INIT: libfuse refused (its reason is on stderr).
            throw new FsException(Errno.EIO, "libfuse could not mount " + mp + ": " + e.getCause().getMessage());
        } catch (TimeoutException e) {
            try {
                m.close();
            } catch (FsException stuck) {
                LOG.warning("giving up on the mount of " + mp + ": " + stuck.getMessage());
            }
            throw new FsException(Errno.EIO, "the kernel did not initialise the mount of " + mp + " within "
                    + MOUNT_TIMEOUT_S + " s");
        }
        KernelReadAhead.raise(mp, READ_AHEAD_KIB);
        LOG.info("mounted volume " + volume.name() + (spec.subdir().equals("/") ? "" : " " + spec.subdir()) + " at "
                + mp + (spec.readOnly() ? " read-only" : ""));
        return m;
    }

    private static Path checkMountpoint(Path mp, List<String> extraOptions) throws FsException {
        Path real;
        try {
            real = mp.toRealPath();
        } catch (NoSuchFileException e) {
            throw new FsException(Errno.ENOENT, "mount point " + mp + " does not exist");
        } catch (IOException e) {
            // ENOTCONN: a FUSE mount whose process died is still in the way.
            throw new FsException(Errno.EBUSY, "mount point " + mp + " is unusable (" + e.getMessage()
                    + "); a stale mount? fusermount3 -u " + mp);
        }
        if (!Files.isDirectory(real)) {
            throw new FsException(Errno.ENOTDIR, "mount point " + mp + " is not a directory");
        }
        if (Mounts.isMountPoint(real)) {
            throw new FsException(Errno.EBUSY, real + " is already a mount point");
        }
        if (!extraOptions.contains("nonempty")) {
            // libfuse refuses too, but only says so on stderr.
            boolean empty;
            try (Stream<Path> entries = Files.list(real)) {
                empty = entries.findAny().isEmpty();
            } catch (IOException e) {
                throw new FsException(Errno.EACCES, "cannot list mount point " + real + ": " + e.getMessage());
            }
            if (!empty) {
                throw new FsException(Errno.ENOTEMPTY, "mount point " + real + " is not empty (the 'nonempty' "
                        + "option mounts over it anyway)");
            }
        }
        return real;
    }

    private void serve() {
        int rc;
        try {
            rc = fs.serve();
        } catch (RuntimeException | Error e) {
            LOG.log(Level.SEVERE, "FUSE loop of " + spec.mountpoint() + " failed", e);
            rc = -1;
        }
        fs.stopping();
        FsException lost = fs.releaseAll();
        if (!fs.initialized().isDone()) {
            ended.completeExceptionally(new FsException(Errno.EIO, "libfuse exited with " + rc));
            return;
        }
        if (!closing) {
            LOG.info(spec.mountpoint() + " was unmounted from outside (fusermount -u, umount); volume "
                    + volume.name() + " is no longer served there");
        } else {
            LOG.info("unmounted " + spec.mountpoint());
        }
        if (lost != null) {
            ended.completeExceptionally(lost);
        } else {
            ended.complete(null);
        }
    }

    @Override
    public void close() throws FsException {
        synchronized (this) {
            if (closing) {
                awaitEnd();
                return;
            }
            closing = true;
        }
        fs.stopping();
        if (loop.isAlive() && fs.initialized().isDone()) {
            unmount();
        }
        awaitEnd();
    }

    /**
     * fusermount -u; if files are still open there, as root the connection is aborted (umount -f: their
     * users get ENOTCONN, buffered writes are still committed) and the mount detached, otherwise it is
     * detached lazily and serves its remaining users until they close.
     */
    private void unmount() throws FsException {
        String mp = spec.mountpoint().toString();
        String why = run(List.of(Mounts.fusermount(), "-u", mp));
        if (why == null) {
            return;
        }
        LOG.warning("unmounting " + mp + ": " + why + "; detaching it");
        if (FuseSetup.isRoot()) {
            run(List.of("umount", "-f", mp));
            run(List.of("umount", "-l", mp));
        } else {
            String lazy = run(List.of(Mounts.fusermount(), "-u", "-z", mp));
            if (lazy != null) {
                throw new FsException(Errno.EBUSY, "cannot unmount " + mp + ": " + lazy);
            }
        }
    }

    /** Runs a command; null on success, else what it said. */
    private static String run(List<String> command) {
        try {
            Process p = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor() == 0 ? null : command.get(0) + ": " + (out.isEmpty() ? "exit " + p.exitValue() : out);
        } catch (IOException e) {
            return command.get(0) + ": " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    private void awaitEnd() throws FsException {
        try {
            ended.get(UNMOUNT_WAIT_S, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof FsException f) {
                throw f;
            }
            throw new FsException(Errno.EIO, "FUSE loop of " + spec.mountpoint() + " failed: " + e.getCause());
        } catch (TimeoutException e) {
            throw new FsException(Errno.EBUSY, spec.mountpoint() + " is detached but still has users; it ends "
                    + "when they close their files");
        }
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public String volume() {
        return volume.name();
    }

    @Override
    public String address() {
        return spec.mountpoint().toString();
    }

    @Override
    public boolean readOnly() {
        return spec.readOnly();
    }

    @Override
    public String subdir() {
        return spec.subdir();
    }

    @Override
    public boolean active() {
        return !ended.isDone();
    }

    @Override
    public CompletionStage<Void> ended() {
        return ended.minimalCompletionStage();
    }

    @Override
    public String toString() {
        return "fuse:" + volume.name() + spec.subdir() + "@" + spec.mountpoint();
    }
}
