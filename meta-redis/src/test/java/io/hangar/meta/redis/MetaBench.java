package io.hangar.meta.redis;

import io.hangar.fs.DirEntry;
import io.hangar.fs.FileType;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.VolumeFormat;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The metadata benchmark: create, stat (lookup + attributes, one round trip), readdir with attributes,
 * rename and unlink of N entries in one directory, at each thread count, against a Redis URL. Prints
 * ops/s, and, when redis-benchmark's figures for the same server are given as system properties
 * {@code get.<threads>} / {@code set.<threads>} (requests/s), the ratios to them. Run by bench/meta-bench.sh.
 *
 * <p>Args: redis URL (without prefix), entries, thread counts…
 */
public final class MetaBench {
    private MetaBench() {
    }

    interface Step {
        void run(MetadataEngine m, int thread, int i) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        String base = args[0];
        int entries = Integer.parseInt(args[1]);
        List<Integer> threadCounts = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            threadCounts.add(Integer.parseInt(args[i]));
        }
        Map<String, Map<Integer, Double>> results = new LinkedHashMap<>();
        for (int threads : threadCounts) {
            String prefix = "bench" + threads + "-" + UUID.randomUUID().toString().substring(0, 8);
            URI url = URI.create(base + (base.contains("?") ? "&" : "?") + "prefix=" + prefix + "&pool=" + (threads + 2));
            try (MetadataEngine m = new RedisMetadataEngineProvider().open(url)) {
                m.format(new VolumeFormat(prefix, UUID.randomUUID().toString(), "", VolumeFormat.DEFAULT_BLOCK_SIZE,
                        VolumeFormat.DEFAULT_CHUNK_SIZE, 0, 0, System.currentTimeMillis()));
                long dir = m.mknod(MetadataEngine.ROOT, "d", FileType.DIRECTORY, 0755, 0, 0, 0, null).inode();
                int per = entries / threads;
                int total = per * threads;
                // Warm-up: JIT, pool connections and script cache, outside the timed phases.
                timed(m, threads, 200, (e, t, i) -> e.mknod(dir, "w" + t + "_" + i, FileType.FILE, 0644, 0, 0, 0, null));
                timed(m, threads, 200, (e, t, i) -> e.unlink(dir, "w" + t + "_" + i));

                put(results, "create", threads, total / timed(m, threads, per,
                        (e, t, i) -> e.mknod(dir, "f" + t + "_" + i, FileType.FILE, 0644, 0, 0, 0, null)));
                put(results, "stat", threads, total / timed(m, threads, per,
                        (e, t, i) -> e.lookup(dir, "f" + t + "_" + i)));
                // Every thread lists the whole directory in pages of 1000, attributes included.
                double listSec = timed(m, threads, 1, (e, t, i) -> {
                    String after = null;
                    int seen = 0;
                    while (true) {
                        List<DirEntry> page = e.readdir(dir, after, 1000, true);
                        if (page.isEmpty()) {
                            break;
                        }
                        seen += page.size();
                        after = page.get(page.size() - 1).name();
                    }
                    if (seen != total) {
                        throw new IllegalStateException("listed " + seen + " of " + total);
                    }
                });
                put(results, "readdir (entries/s)", threads, (double) total * threads / listSec);
                put(results, "rename", threads, total / timed(m, threads, per,
                        (e, t, i) -> e.rename(dir, "f" + t + "_" + i, dir, "g" + t + "_" + i, 0)));
                put(results, "unlink", threads, total / timed(m, threads, per,
                        (e, t, i) -> e.unlink(dir, "g" + t + "_" + i)));
                m.rmdir(MetadataEngine.ROOT, "d");
            }
        }
        print(entries, threadCounts, results);
    }

    private static void put(Map<String, Map<Integer, Double>> r, String op, int threads, double opsPerSec) {
        r.computeIfAbsent(op, k -> new LinkedHashMap<>()).put(threads, opsPerSec);
    }

    /** Runs {@code per} steps on each of {@code threads} threads sharing one engine; returns seconds. */
    private static double timed(MetadataEngine m, int threads, int per, Step step) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> fs = new ArrayList<>();
            long start = System.nanoTime();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                fs.add(pool.submit(() -> {
                    for (int i = 0; i < per; i++) {
                        step.run(m, thread, i);
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
            return (System.nanoTime() - start) / 1e9;
        } finally {
            pool.shutdown();
        }
    }

    private static void print(int entries, List<Integer> threadCounts, Map<String, Map<Integer, Double>> results) {
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-22s", "op (" + entries + " entries)"));
        for (int t : threadCounts) {
            head.append(String.format(Locale.ROOT, "%14s%16s%16s", "ops/s @" + t, "/GET @" + t, "/SET @" + t));
        }
        System.out.println(head);
        for (String t : List.of("GET", "SET")) {
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-22s", "redis-benchmark " + t));
            for (int c : threadCounts) {
                row.append(String.format(Locale.ROOT, "%14.0f%16s%16s", rate(t.toLowerCase(Locale.ROOT), c), "", ""));
            }
            System.out.println(row);
        }
        results.forEach((op, byThreads) -> {
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-22s", op));
            for (int t : threadCounts) {
                double v = byThreads.get(t);
                row.append(String.format(Locale.ROOT, "%14.0f%16s%16s", v, ratio(v, rate("get", t)), ratio(v, rate("set", t))));
            }
            System.out.println(row);
        });
    }

    private static double rate(String op, int c) {
        return Double.parseDouble(System.getProperty(op + "." + c, "0"));
    }

    private static String ratio(double v, double base) {
        return base > 0 ? String.format(Locale.ROOT, "%.0f%%", 100 * v / base) : "-";
    }
}
