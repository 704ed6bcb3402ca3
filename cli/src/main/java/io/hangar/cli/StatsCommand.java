package io.hangar.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code hangar stats}: a live view of a running mount or runtime, from its {@code /metrics} (like {@code juicefs
 * stats}). Each interval it scrapes, differences the counters against the last scrape and shows rates: on a
 * terminal a panel redrawn in place, otherwise one line per interval under a header.
 */
@Command(name = "stats", mixinStandardHelpOptions = true,
        description = "Shows a running mount's or runtime's activity, refreshed every interval.")
final class StatsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Parameters(paramLabel = "MOUNTPOINT|URL",
            description = "A mount point served by a Hangar runtime, or a metrics URL (http://host:port[/metrics]).")
    String target;
    @Option(names = "--interval", paramLabel = "DURATION", defaultValue = "1s",
            description = "Time between refreshes: 1s, 500ms, 2m. Default: ${DEFAULT-VALUE}.")
    String interval;
    @Option(names = "--count", paramLabel = "N", description = "Stop after N intervals (default: until Ctrl-C).")
    Integer count;

    /**
     * Made on first use: picocli builds every command of the CLI at start, and an HTTP client's TLS set-up
     * (the JDK's trust store read and parsed) cost every other command about 0.4 s.
     */
    private HttpClient http;

    @Override
    public Integer call() throws InterruptedException {
        CliContext ctx = CliContext.of(spec);
        PrintStream out = ctx.out();
        long periodMs = durationMs(interval);
        if (count != null && count < 1) {
            throw new CliException(ExitCodes.USAGE, "--count must be at least 1");
        }
        URI url = resolve(target);
        boolean terminal = System.console() != null;
        MetricSamples last = scrape(url);
        long lastAt = System.nanoTime();
        if (!terminal) {
            out.println(Row.HEADER);
        }
        for (int i = 0; count == null || i < count; i++) {
            Thread.sleep(periodMs);
            MetricSamples now = scrape(url);
            long at = System.nanoTime();
            Row row = Row.of(last, now, (at - lastAt) / 1e9);
            if (terminal) {
                out.print("\033[H\033[2J"); // home and clear: the panel is redrawn in place
                out.println("hangar stats " + url + "  (every " + interval + ", Ctrl-C to stop)\n");
                out.println(row.panel());
            } else {
                out.println(row.line());
            }
            out.flush();
            last = now;
            lastAt = at;
        }
        return ExitCodes.OK;
    }

    /** A metrics URL as given, or the one the runtime serving {@code target} announced in its run/ folder. */
    static URI resolve(String target) {
        if (target.startsWith("http://") || target.startsWith("https://")) {
            URI u = URI.create(target);
            return u.getPath() == null || u.getPath().isEmpty() || u.getPath().equals("/")
                    ? u.resolve("/metrics") : u;
        }
        Path mp = Path.of(target).toAbsolutePath().normalize();
        Optional<Path> home = homeServing(mp);
        if (home.isEmpty()) {
            throw new CliException(ExitCodes.NOT_FOUND, "no running Hangar runtime serves " + mp
                    + " (give the metrics URL instead: hangar stats http://host:port/metrics)");
        }
        Path file = home.get().resolve("run").resolve("metrics.url");
        try {
            return URI.create(Files.readString(file).strip());
        } catch (IOException e) {
            throw new CliException(ExitCodes.NOT_FOUND, "the runtime serving " + mp + " serves no metrics (no " + file
                    + "; mounted with --metrics off?)");
        }
    }

    /**
     * The {@code hangar.home} of the runtime that mounts {@code mp}: a {@code hangar mount} runtime names its
     * mount point on its command line; any runtime names it in the FUSE configurations of its etc/ folder.
     */
    static Optional<Path> homeServing(Path mp) {
        return ProcessHandle.allProcesses().map(p -> p.info().arguments().map(Arrays::asList).orElse(List.of()))
                .filter(args -> args.stream().anyMatch(a -> a.startsWith("-Dhangar.home=")))
                .filter(args -> args.contains("-D" + MountCommand.MOUNTPOINT_PROPERTY + "=" + mp)
                        || mountsInEtc(args).contains(mp.toString()))
                .map(args -> Path.of(property(args, "hangar.home"))).findFirst();
    }

    /** The subdirectory of the volume that the runtime at {@code home} serves at {@code mp} ("/": all of it). */
    static String subdirServed(Path home, Path mp) {
        try {
            ConfigFiles files = new ConfigFiles(home.resolve("etc"));
            for (String f : files.factoryFiles(ConfigFiles.FUSE_PID)) {
                Map<String, String> c = files.read(f);
                if (mp.toString().equals(c.get("mountpoint"))) {
                    String s = c.getOrDefault("subdir", "");
                    return s.isBlank() ? "/" : s;
                }
            }
        } catch (IOException e) {
            // unreadable: as if it served nothing
        }
        return null;
    }

    private static List<String> mountsInEtc(List<String> args) {
        String etc = property(args, "felix.fileinstall.dir");
        if (etc == null) {
            return List.of();
        }
        try {
            ConfigFiles files = new ConfigFiles(Path.of(etc));
            return files.factoryFiles(ConfigFiles.FUSE_PID).stream().map(f -> {
                try {
                    return files.read(f).getOrDefault("mountpoint", "");
                } catch (IOException e) {
                    return "";
                }
            }).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static String property(List<String> args, String name) {
        String prefix = "-D" + name + "=";
        return args.stream().filter(a -> a.startsWith(prefix)).map(a -> a.substring(prefix.length())).findFirst()
                .orElse(null);
    }

    private MetricSamples scrape(URI url) throws InterruptedException {
        try {
            if (http == null) {
                http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            }
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(10)).GET()
                    .build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new CliException(ExitCodes.UNREACHABLE, url + " answered HTTP " + r.statusCode());
            }
            return MetricSamples.parse(r.body());
        } catch (IOException e) {
            throw new CliException(ExitCodes.UNREACHABLE, "cannot read " + url + ": " + (e.getMessage() != null
                    ? e.getMessage() : e.getClass().getSimpleName()));
        }
    }

    static long durationMs(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        try {
            long ms;
            if (t.endsWith("ms")) {
                ms = Long.parseLong(t.substring(0, t.length() - 2));
            } else if (t.endsWith("s")) {
                ms = Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 1000);
            } else if (t.endsWith("m")) {
                ms = Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 60_000);
            } else {
                ms = Math.round(Double.parseDouble(t) * 1000);
            }
            if (ms >= 100 && ms <= 3_600_000) {
                return ms;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new CliException(ExitCodes.USAGE, "--interval wants a duration from 100ms to 1h (1s, 500ms, 2m), not '"
                + text + "'");
    }

    /** One interval's figures, from two scrapes {@code seconds} apart. */
    record Row(double fuseOps, double fuseLatencyMs, double fuseReadMiB, double fuseWriteMiB, double cacheHitPct,
            double diskHitPct, double peerMiB, double objOps, double objLatencyMs, double objGetMiB, double objPutMiB, double metaOps,
            double metaLatencyMs, double bufferMiB, double cpuPct, double heapMiB) {
        /** One column layout for the header and every line, so that they line up under each other. */
        private static final String COLUMNS =
                "%-10s %6s %10s %10s | %6s %6s %9s | %9s %6s %9s %9s | %10s %6s | %7s %5s %8s";
        static final String HEADER = String.format(Locale.ROOT, COLUMNS, "fuse:ops/s", "ms", "readMiB/s",
                "writeMiB/s", "hit%", "disk%", "peerMiB/s", "obj:ops/s", "ms", "getMiB/s", "putMiB/s", "meta:ops/s", "ms", "bufMiB", "cpu%",
                "heapMiB");

        static Row of(MetricSamples a, MetricSamples b, double seconds) {
            double fuseOps = delta(a, b, "hangar_fuse_op_duration_seconds_count");
            double fuseSec = delta(a, b, "hangar_fuse_op_duration_seconds_sum");
            double hits = delta(a, b, "hangar_blockcache_hits_total");
            double miss = delta(a, b, "hangar_blockcache_miss_total");
            // The disk tier sees only what the memory cache missed; "-" without a disk cache or without reads.
            double diskHits = delta(a, b, "hangar_diskcache_hits_total");
            double diskMiss = delta(a, b, "hangar_diskcache_miss_total");
            double objOps = delta(a, b, "hangar_object_request_duration_seconds_count");
            double objSec = delta(a, b, "hangar_object_request_duration_seconds_sum");
            double metaOps = delta(a, b, "hangar_meta_op_duration_seconds_count");
            double metaSec = delta(a, b, "hangar_meta_op_duration_seconds_sum");
            double mib = 1 << 20;
            return new Row(fuseOps / seconds, perOp(fuseSec, fuseOps),
                    delta(a, b, "hangar_fuse_read_bytes_total") / mib / seconds,
                    delta(a, b, "hangar_fuse_written_bytes_total") / mib / seconds,
                    hits + miss == 0 ? Double.NaN : 100 * hits / (hits + miss),
                    diskHits + diskMiss == 0 ? Double.NaN : 100 * diskHits / (diskHits + diskMiss),
                    // Blocks fetched from their owners in the cache group; "-" outside a group.
                    b.has("hangar_cachegroup_peer_data_bytes_total")
                            ? delta(a, b, "hangar_cachegroup_peer_data_bytes_total") / mib / seconds : Double.NaN,
                    objOps / seconds, perOp(objSec, objOps),
                    delta(a, b, "hangar_object_request_data_bytes_total", "method", "GET") / mib / seconds,
                    delta(a, b, "hangar_object_request_data_bytes_total", "method", "PUT") / mib / seconds,
                    metaOps / seconds, perOp(metaSec, metaOps),
                    b.sum("hangar_vfs_buffer_used_bytes") / mib,
                    100 * b.sum("process_cpu_usage"),
                    b.sum("jvm_memory_used_bytes", l -> "heap".equals(l.get("area"))) / mib);
        }

        private static double perOp(double seconds, double ops) {
            return ops == 0 ? Double.NaN : 1000 * seconds / ops;
        }

        private static double delta(MetricSamples a, MetricSamples b, String name) {
            return Math.max(0, b.sum(name) - a.sum(name));
        }

        private static double delta(MetricSamples a, MetricSamples b, String name, String label, String value) {
            return Math.max(0, b.sum(name, l -> value.equals(l.get(label))) - a.sum(name, l -> value.equals(l.get(label))));
        }

        private static String f(double v, int decimals) {
            return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%." + decimals + "f", v);
        }

        String line() {
            return String.format(Locale.ROOT, COLUMNS,
                    f(fuseOps, 0), f(fuseLatencyMs, 2), f(fuseReadMiB, 1), f(fuseWriteMiB, 1), f(cacheHitPct, 1),
                    f(diskHitPct, 1), f(peerMiB, 1), f(objOps, 0), f(objLatencyMs, 2), f(objGetMiB, 1), f(objPutMiB, 1), f(metaOps, 0),
                    f(metaLatencyMs, 2), f(bufferMiB, 1), f(cpuPct, 0), f(heapMiB, 0));
        }

        String panel() {
            Map<String, String> rows = new java.util.LinkedHashMap<>();
            rows.put("FUSE", f(fuseOps, 0) + " ops/s, " + f(fuseLatencyMs, 2) + " ms/op, read " + f(fuseReadMiB, 1)
                    + " MiB/s, write " + f(fuseWriteMiB, 1) + " MiB/s");
            rows.put("block cache", f(cacheHitPct, 1) + " % hits");
            rows.put("disk cache", f(diskHitPct, 1) + " % hits of what memory missed");
            if (!Double.isNaN(peerMiB)) {
                rows.put("cache group", f(peerMiB, 1) + " MiB/s from the blocks' owners");
            }
            rows.put("object store", f(objOps, 0) + " requests/s, " + f(objLatencyMs, 2) + " ms/request, get "
                    + f(objGetMiB, 1) + " MiB/s, put " + f(objPutMiB, 1) + " MiB/s");
            rows.put("metadata", f(metaOps, 0) + " ops/s, " + f(metaLatencyMs, 2) + " ms/op");
            rows.put("write buffer", f(bufferMiB, 1) + " MiB in use");
            rows.put("process", f(cpuPct, 0) + " % CPU, heap " + f(heapMiB, 0) + " MiB");
            StringBuilder sb = new StringBuilder();
            rows.forEach((k, v) -> sb.append(String.format(Locale.ROOT, "  %-13s %s%n", k, v)));
            return sb.toString();
        }
    }
}
