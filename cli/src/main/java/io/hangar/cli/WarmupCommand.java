package io.hangar.cli;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code hangar warmup}: has the runtime serving a Hangar mount fetch files' blocks into its caches (the disk
 * cache with {@code --cache-dir}) before readers come, like {@code juicefs warmup}; or tells how much of them
 * the caches hold ({@code --check}), or drops them from the disk cache ({@code --evict}). It talks to the
 * runtime through the virtual extended attributes {@code hangar.cache[.warm|.evict]} of each file, which the
 * mount answers without sending the data through FUSE; reading them needs only read permission, so a
 * read-only mount of a released model can be warmed.
 */
@Command(name = "warmup", mixinStandardHelpOptions = true,
        description = "Fetches files of a Hangar mount into its runtime's caches, or reports or drops what they hold.")
final class WarmupCommand implements Callable<Integer> {
    private static final int ENODATA = 61;
    private static final int ENOTSUP = 95;

    @Spec
    CommandSpec spec;
    @Parameters(arity = "1..*", paramLabel = "PATH|TEAM/MODEL:REF",
            description = "Files or directories in a Hangar mount, or a model version (a tag or number), found "
                    + "in a Hangar mount of this machine that shows it (--server, --token).")
    List<String> paths = new ArrayList<>();
    @picocli.CommandLine.Mixin
    RepoOptions repo;
    @Option(names = "--threads", paramLabel = "N", defaultValue = "4",
            description = "Files warmed at once (default 4; the runtime fetches 8 blocks of each at once).")
    int threads;
    @Option(names = "--check", description = "Only report how much of the files the caches hold.")
    boolean check;
    @Option(names = "--evict", description = "Drop the files' blocks from the mount's disk cache.")
    boolean evict;
    @Option(names = "--background", description = "Queue the warm-up in the runtime serving the mount and return "
            + "at once (follow it with --check).")
    boolean background;

    /** libc's getxattr(2), through JNA (the JDK reads only user.* attributes). */
    interface LibC extends Library {
        long getxattr(String path, String name, byte[] value, long size) throws LastErrorException;
    }

    @Override
    public Integer call() throws InterruptedException {
        CliContext ctx = CliContext.of(spec);
        PrintStream out = ctx.out();
        if (threads < 1) {
            throw CliException.usage("--threads must be at least 1");
        }
        if (check && evict) {
            throw CliException.usage("--check and --evict: one at a time");
        }
        if (background && (check || evict)) {
            throw CliException.usage("--background warms: not with --check or --evict");
        }
        List<Path> files = files(ctx);
        LibC libc = Native.load("c", LibC.class);
        String attr = "hangar.cache" + (check ? "" : evict ? ".evict" : background ? ".warm.background" : ".warm");
        // stored, disk, memory, fetched or dropped or queued, group (-1: the mount is in no cache group)
        AtomicLongArray sums = new AtomicLongArray(5);
        java.util.concurrent.atomic.AtomicBoolean inGroup = new java.util.concurrent.atomic.AtomicBoolean();
        long started = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "hangar-warmup");
            t.setDaemon(true);
            return t;
        });
        try (Progress bar = Progress.count(check ? "checking" : evict ? "evicting" : "warming up", files.size(),
                "files")) {
            List<Future<?>> done = new ArrayList<>();
            for (Path f : files) {
                done.add(pool.submit(() -> {
                    Map<String, Long> s = ask(libc, f, attr);
                    sums.addAndGet(0, s.getOrDefault("stored", 0L));
                    sums.addAndGet(1, s.getOrDefault("disk", 0L));
                    sums.addAndGet(2, s.getOrDefault("memory", 0L));
                    if (s.containsKey("group")) {
                        inGroup.set(true);
                        sums.addAndGet(4, s.get("group"));
                    }
                    sums.addAndGet(3, s.getOrDefault(evict ? "dropped" : background ? "queued" : "fetched", 0L));
                    bar.step(1);
                    return null;
                }));
            }
            for (Future<?> d : done) {
                d.get();
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof CliException c) {
                throw c;
            }
            throw new CliException(ExitCodes.FAILURE, "warmup failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
        double secs = Math.max(1e-9, (System.nanoTime() - started) / 1e9);
        long stored = sums.get(0);
        String held = "disk cache " + Sizes.format(sums.get(1)) + " (" + pct(sums.get(1), stored) + "), memory "
                + Sizes.format(sums.get(2)) + " (" + pct(sums.get(2), stored) + ")"
                + (inGroup.get() ? ", cache group " + Sizes.format(sums.get(4)) + " (" + pct(sums.get(4), stored)
                        + ", here or at the owners)" : "");
        if (check) {
            out.println(files.size() + " files, " + Sizes.format(stored) + " stored; cached: " + held);
        } else if (background) {
            out.println("queued " + sums.get(3) + " of " + files.size() + " files (" + Sizes.format(stored)
                    + " stored) for a warm-up in the background (the others were queued already); cached now: "
                    + held + "; follow it with: hangar warmup --check");
        } else if (evict) {
            out.println("evicted " + files.size() + " files: " + Sizes.format(sums.get(3))
                    + " dropped from the disk cache; cached now: " + held);
        } else {
            out.printf("warmed %d files, %s stored, in %.2f s: %s fetched from the object store (%.0f MiB/s); "
                    + "cached now: %s%n", files.size(), Sizes.format(stored), secs, Sizes.format(sums.get(3)),
                    sums.get(3) / secs / (1 << 20), held);
        }
        return ExitCodes.OK;
    }

    private static String pct(long part, long whole) {
        return whole == 0 ? "-" : String.format(java.util.Locale.ROOT, "%.1f%%", 100.0 * part / whole);
    }

    /** The regular files under the paths (or model versions), all in one Hangar mount. */
    private List<Path> files(CliContext ctx) throws InterruptedException {
        Path mount = null;
        List<Path> files = new ArrayList<>();
        for (String arg : paths) {
            Path given = Path.of(arg).toAbsolutePath().normalize();
            Path p = !Files.exists(given) && arg.indexOf(':') > 0 && !arg.startsWith("/") && !arg.startsWith(".")
                    ? versionInAMount(ctx, arg) : given;
            Path m = Fuse.hangarMountOf(p).orElseThrow(() -> new CliException(ExitCodes.REFUSED,
                    p + ": not in a Hangar mount"));
            if (mount != null && !mount.equals(m)) {
                throw CliException.usage("the paths are in two mounts (" + mount + ", " + m + "): warm one at a time");
            }
            mount = m;
            try (Stream<Path> s = Files.walk(p)) {
                s.filter(Files::isRegularFile).forEach(files::add);
            } catch (IOException e) {
                throw Errors.local(e, p);
            } catch (java.io.UncheckedIOException e) {
                throw Errors.local(e.getCause(), p);
            }
        }
        return files;
    }

    /**
     * Where a Hangar mount of this machine shows model version {@code ref} (TEAM/MODEL:REF, resolved through the
     * repository API): a mount of the whole volume, a mount of a subdirectory holding it, or a pod's mount of
     * exactly that version.
     */
    private Path versionInAMount(CliContext ctx, String ref) throws InterruptedException {
        ModelRef m = ModelRef.parse(ref, ModelRef.RefRule.REQUIRED);
        RepoClient client = new RepoClient(repo.server(ctx.env()), repo.token(ctx.env(), ctx.home()));
        String path = Json.str(Json.obj(client.get("/teams/" + RepoClient.segment(m.team()) + "/models/"
                + RepoClient.segment(m.model()) + "/versions/" + RepoClient.segment(m.ref()))), "path");
        for (Path mp : Fuse.hangarMounts()) {
            String sub = StatsCommand.homeServing(mp).map(h -> StatsCommand.subdirServed(h, mp)).orElse(null);
            if (sub == null) {
                continue;
            }
            String base = sub.endsWith("/") ? sub : sub + "/";
            if (path.equals(sub)) {
                return mp;
            }
            if ((path + "/").startsWith(base)) {
                Path local = mp.resolve(path.substring(base.length()));
                if (Files.isDirectory(local)) {
                    return local;
                }
            }
        }
        throw new CliException(ExitCodes.NOT_FOUND, ref + " (" + path + "): no Hangar mount of this machine shows it");
    }

    /** One control request to the runtime, as a read of the file's virtual attribute; its answer parsed. */
    private static Map<String, Long> ask(LibC libc, Path f, String attr) {
        byte[] buf = new byte[512];
        long n;
        try {
            n = libc.getxattr(f.toString(), attr, buf, buf.length);
        } catch (LastErrorException e) {
            int errno = e.getErrorCode();
            if (errno == ENODATA || errno == ENOTSUP) {
                throw new CliException(ExitCodes.REFUSED, f + ": the runtime serving this mount has no cache "
                        + "control (an older Hangar?)");
            }
            throw new CliException(errno == 2 ? ExitCodes.NOT_FOUND : errno == 13 ? ExitCodes.REFUSED
                    : ExitCodes.FAILURE, f + ": " + attr + " failed: errno " + errno + " (" + strerror(errno) + ")");
        }
        Map<String, Long> out = new HashMap<>();
        for (String kv : new String(buf, 0, (int) n, StandardCharsets.US_ASCII).trim().split(" ")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                try {
                    out.put(kv.substring(0, eq), Long.parseLong(kv.substring(eq + 1)));
                } catch (NumberFormatException e) {
                    throw new CliException(ExitCodes.FAILURE, f + ": unexpected answer to " + attr + ": " + kv);
                }
            }
        }
        return out;
    }

    private static String strerror(int errno) {
        return switch (errno) {
            case 5 -> "input/output error: the chunk store failed";
            case 21 -> "is a directory";
            case 22 -> "invalid argument";
            case 28 -> "no space left";
            default -> "see errno(3)";
        };
    }
}
