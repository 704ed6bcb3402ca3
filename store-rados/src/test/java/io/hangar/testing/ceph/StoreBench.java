package io.hangar.testing.ceph;

import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.store.ChunkStoreProvider;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.ServiceLoader;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Put and get of N objects of SIZE bytes through a chunk store with T threads (one request in flight each),
 * after a warm-up round; prints MiB/s and ops/s. Run by {@code bench/store-bench.sh}, never by the tests.
 * Usage: StoreBench STORE-URL THREADS COUNT SIZE
 */
public final class StoreBench {
    private StoreBench() {
    }

    public static void main(String[] a) throws Exception {
        URI url = URI.create(a[0]);
        int threads = Integer.parseInt(a[1]);
        int n = Integer.parseInt(a[2]);
        int size = Integer.parseInt(a[3]);
        ChunkStoreProvider provider = null;
        for (ChunkStoreProvider p : ServiceLoader.load(ChunkStoreProvider.class)) {
            if (p.schemes().contains(url.getScheme())) {
                provider = p;
            }
        }
        if (provider == null) {
            throw new IllegalArgumentException("no store provider for " + url.getScheme());
        }
        byte[] data = new byte[size];
        new Random(1).nextBytes(data);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (ChunkStore s = provider.open(url)) {
            for (int round = 0; round < 2; round++) {
                double put = timed(pool, n, i -> s.put("bench/" + i, data, 0, size));
                double get = timed(pool, n, i -> {
                    if (s.get("bench/" + i, 0, -1).length != size) {
                        throw new IllegalStateException("short object bench/" + i);
                    }
                });
                if (round == 1) {
                    double mib = (double) n * size / (1 << 20);
                    System.out.printf("%-7s %2d threads %5d x %7d B: put %7.1f MiB/s %7.0f ops/s   get %7.1f MiB/s %7.0f ops/s%n",
                            url.getScheme(), threads, n, size, mib / put, n / put, mib / get, n / get);
                }
            }
            timed(pool, n, i -> s.delete("bench/" + i));
        } finally {
            pool.shutdown();
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
        for (Future<?> f : fs) {
            f.get();
        }
        return (System.nanoTime() - t0) / 1e9;
    }
}
