package io.hangar.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code hangar warmup}: reads files of a Hangar mount once, whole, in parallel, so that the runtime serving
 * the mount holds their blocks in its caches (its disk cache with {@code --cache-dir}) before readers come,
 * like {@code juicefs warmup}. What the runtime fetched from the object store meanwhile is read from its
 * metrics, if it serves them.
 */
@Command(name = "warmup", mixinStandardHelpOptions = true,
        description = "Reads files of a Hangar mount once, so that its runtime caches their blocks.")
final class WarmupCommand implements Callable<Integer> {
    /** One read: the block size, so that each request asks the runtime for one block. */
    private static final int READ = 4 << 20;

    @Spec
    CommandSpec spec;
    @Parameters(arity = "1..*", paramLabel = "PATH", description = "Files or directories in a Hangar mount.")
    List<Path> paths = new ArrayList<>();
    @Option(names = "--threads", paramLabel = "N", defaultValue = "4",
            description = "Files read at once (default 4); each is one sequential stream, which the mount's "
                    + "read-ahead fetches in parallel.")
    int threads;

    @Override
    public Integer call() throws InterruptedException {
        CliContext ctx = CliContext.of(spec);
        PrintStream out = ctx.out();
        if (threads < 1) {
            throw CliException.usage("--threads must be at least 1");
        }
        Path mount = null;
        List<Path> files = new ArrayList<>();
        long total = 0;
        for (Path given : paths) {
            Path p = given.toAbsolutePath().normalize();
            Path m = Fuse.hangarMountOf(p).orElseThrow(() -> new CliException(ExitCodes.REFUSED,
                    p + ": not in a Hangar mount"));
            if (mount != null && !mount.equals(m)) {
                throw CliException.usage("the paths are in two mounts (" + mount + ", " + m + "): warm one at a time");
            }
            mount = m;
            try (Stream<Path> s = Files.walk(p)) {
                for (Path f : (Iterable<Path>) s.filter(Files::isRegularFile)::iterator) {
                    files.add(f);
                    total += Files.size(f);
                }
            } catch (IOException e) {
                throw Errors.local(e, p);
            } catch (java.io.UncheckedIOException e) {
                throw Errors.local(e.getCause(), p);
            }
        }
        URI metrics = metricsOf(mount);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        MetricSamples before = metrics == null ? null : StatsCommand.scrape(http, metrics);

        long started = System.nanoTime();
        AtomicLong read = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "hangar-warmup");
            t.setDaemon(true);
            return t;
        });
        try (Progress bar = Progress.bytes("warming up", total)) {
            List<Future<?>> done = new ArrayList<>();
            for (Path f : files) {
                // One stream per file: parts of one file read at once measured slower here (each part's
                // read-ahead starts small, and the streams share the read-ahead budget).
                done.add(pool.submit(() -> {
                    readWhole(f, bar, read);
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
        out.printf("warmed %d files, %s in %.2f s (%.0f MiB/s)%n", files.size(), Sizes.format(read.get()), secs,
                read.get() / secs / (1 << 20));
        if (before != null) {
            MetricSamples after = StatsCommand.scrape(http, metrics);
            double fetched = after.sum("hangar_object_request_data_bytes_total", l -> "GET".equals(l.get("method")))
                    - before.sum("hangar_object_request_data_bytes_total", l -> "GET".equals(l.get("method")));
            double disk = after.sum("hangar_diskcache_bytes");
            double limit = after.sum("hangar_diskcache_limit_bytes");
            out.println("fetched from the object store: " + Sizes.format((long) fetched) + (limit > 0
                    ? "; disk cache: " + Sizes.format((long) disk) + " of " + Sizes.format((long) limit)
                    : "; the mount has no disk cache (--cache-dir): blocks are kept in memory only"));
        }
        return ExitCodes.OK;
    }

    private static void readWhole(Path f, Progress bar, AtomicLong read) {
        ByteBuffer buf = ByteBuffer.allocateDirect(READ);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            int n;
            while ((n = ch.read(buf.clear())) > 0) {
                bar.step(n);
                read.addAndGet(n);
            }
        } catch (IOException e) {
            throw Errors.local(e, f);
        }
    }

    /** The metrics URL of the runtime serving {@code mount}, or null if it serves none. */
    private static URI metricsOf(Path mount) {
        try {
            return StatsCommand.resolve(mount.toString());
        } catch (CliException e) {
            return null;
        }
    }
}
