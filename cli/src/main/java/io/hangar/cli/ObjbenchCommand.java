package io.hangar.cli;

import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.store.ChunkStoreProvider;
import io.hangar.spi.store.StoreException;
import java.io.PrintStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.ServiceLoader;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code hangar objbench <store-url>}, like {@code juicefs objbench}: put, get, head and delete of block-sized
 * and small objects through the chunk store itself (the same code a volume uses), with one thread and with
 * several, each thread keeping one request in flight. Objects go under a fresh prefix and are deleted at the
 * end. Reference figures (rados bench, aws s3 cp) come from bench/store-bench.sh, in the same run.
 */
@Command(name = "objbench", mixinStandardHelpOptions = true,
        description = {"Measures a chunk store: put/get/head/delete of big (block) and small objects, with 1 and N "
                + "threads; prints MiB/s and ops/s.", "STORE-URL as for format --storage (file://, rados://, s3://, "
                + "oss://); credentials as the store takes them."})
final class ObjbenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "STORE-URL")
    String url;

    @Option(names = "--big-object-size", defaultValue = "4M", description = "Size of the big objects (default 4M).")
    String bigSize;

    @Option(names = "--big-objects", defaultValue = "64", description = "How many big objects (default 64).")
    int bigCount;

    @Option(names = "--small-object-size", defaultValue = "4K", description = "Size of the small objects (default 4K).")
    String smallSize;

    @Option(names = "--small-objects", defaultValue = "400", description = "How many small objects (default 400).")
    int smallCount;

    @Option(names = {"-t", "--threads"}, defaultValue = "16", description = "Threads of the parallel runs (default 16).")
    int threads;

    @Option(names = "--buffers", defaultValue = "direct", description = "direct: put and get through the stores' "
            + "ByteBuffer forms with direct (native) buffers, as a volume does (default); heap: the byte[] forms.")
    String buffers;

    @Override
    public Integer call() throws Exception {
        CliContext ctx = CliContext.of(spec);
        int big = (int) Sizes.parse(bigSize);
        int small = (int) Sizes.parse(smallSize);
        if (!buffers.equals("direct") && !buffers.equals("heap")) {
            throw CliException.usage("--buffers is direct or heap, not " + buffers);
        }
        boolean direct = buffers.equals("direct");
        if (threads < 1 || bigCount < 1 || smallCount < 1 || big < 1 || small < 1 || big > (64 << 20)) {
            throw CliException.usage("counts and --threads must be at least 1, sizes from 1 byte to 64M");
        }
        URI u;
        try {
            u = new URI(url);
        } catch (URISyntaxException e) {
            throw CliException.usage("bad store URL " + url + ": " + e.getReason());
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        ChunkStoreProvider provider = ServiceLoader.load(ChunkStoreProvider.class).stream()
                .map(ServiceLoader.Provider::get).filter(p -> p.schemes().contains(scheme)).findFirst()
                .orElseThrow(() -> new CliException(ExitCodes.UNKNOWN_VOLUME, "no chunk store for scheme '" + scheme + "'"));
        String prefix = "objbench-" + UUID.randomUUID() + "/";
        try (ChunkStore store = provider.open(u)) {
            PrintStream out = ctx.out();
            out.println("objbench " + store.describe() + ", objects under " + prefix + ", " + threads + " threads, "
                    + buffers + " buffers");
            for (int[] run : new int[][] {{big, bigCount, 1}, {big, bigCount, threads}, {small, smallCount, 1},
                {small, smallCount, threads}}) {
                measure(store, prefix, run[0], run[1], run[2], direct, out);
            }
        } catch (StoreException e) {
            throw new CliException(e.kind() == StoreException.Kind.NOT_FOUND ? ExitCodes.NOT_FOUND
                    : ExitCodes.UNREACHABLE, "store " + scheme + ": " + e.getMessage(), e);
        }
        return ExitCodes.OK;
    }

    private static void measure(ChunkStore s, String prefix, int size, int n, int threads, boolean direct,
            PrintStream out) throws Exception {
        byte[] data = new byte[size];
        new Random(size).nextBytes(data);
        ByteBuffer source = ByteBuffer.allocateDirect(size).put(data).flip();
        // One reusable direct buffer per thread, as a volume reads into pooled block buffers.
        ThreadLocal<ByteBuffer> into = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(size));
        String p = prefix + size + "-" + threads + "/";
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            double put = timed(pool, n, i -> {
                if (direct) {
                    s.put(p + i, source.duplicate());
                } else {
                    s.put(p + i, data, 0, size);
                }
            });
            double get = timed(pool, n, i -> {
                int got;
                if (direct) {
                    ByteBuffer b = into.get().clear();
                    got = s.get(p + i, 0, b);
                } else {
                    got = s.get(p + i, 0, -1).length;
                }
                if (got != size) {
                    throw new StoreException(StoreException.Kind.INVALID, "short object " + p + i);
                }
            });
            double head = timed(pool, n, i -> s.head(p + i));
            double delete = timed(pool, n, i -> s.delete(p + i));
            double mib = (double) n * size / (1 << 20);
            out.printf(Locale.ROOT, "%4d x %-6s %2d thr  put %8.1f MiB/s %7.0f ops/s | get %8.1f MiB/s %7.0f ops/s"
                    + " | head %7.0f ops/s | delete %7.0f ops/s%n", n, Sizes.format(size), threads, mib / put, n / put,
                    mib / get, n / get, n / head, n / delete);
        } finally {
            pool.shutdownNow();
        }
    }

    private interface Op {
        void run(int i) throws Exception;
    }

    private static double timed(ExecutorService pool, int n, Op op) throws Exception {
        long t0 = System.nanoTime();
        List<Future<?>> fs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int k = i;
            fs.add(pool.submit(() -> {
                op.run(k);
                return null;
            }));
        }
        try {
            for (Future<?> f : fs) {
                f.get();
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof StoreException se) {
                throw se;
            }
            throw e;
        }
        return (System.nanoTime() - t0) / 1e9;
    }
}
