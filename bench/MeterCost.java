import io.hangar.metrics.MeterGroup;
import io.hangar.metrics.MeterSet;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.TimeUnit;

/**
 * What counting costs per request on the hot paths (bench/metrics-overhead.sh runs it): the meters a FUSE
 * read or write touches (its latency histogram and its byte counter, through the component's MeterGroup into
 * the runtime's Prometheus registry), timed on THREADS threads at once, published and not. Prints ns per
 * request; the script sets it next to the time one request takes in the same run.
 */
public class MeterCost {
    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        long perThread = 5_000_000;
        for (boolean published : new boolean[] {false, true, false, true}) {
            MeterGroup group = new MeterGroup();
            PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            if (published) {
                group.publishTo(prometheus);
            }
            MeterSet set = new MeterSet(group.registry(), Tags.of("volume", "v", "mountpoint", "/m"));
            Timer op = set.timer("hangar_fuse_op_duration", "bench", "method", "read");
            Counter bytes = set.counter("hangar_fuse_read", "bytes", "bench");
            Thread[] ts = new Thread[threads];
            long start = System.nanoTime();
            for (int t = 0; t < threads; t++) {
                ts[t] = new Thread(() -> {
                    for (long i = 0; i < perThread; i++) {
                        long s = System.nanoTime();
                        bytes.increment(1 << 20);
                        op.record(System.nanoTime() - s, TimeUnit.NANOSECONDS);
                    }
                });
                ts[t].start();
            }
            for (Thread t : ts) {
                t.join();
            }
            double ns = (System.nanoTime() - start) / (double) perThread; // wall time per request per thread
            System.out.printf("meters %-13s %6.1f ns per request (%d threads)%n", published ? "published" : "unpublished",
                    ns, threads);
            if (published && prometheus.scrape().indexOf("hangar_fuse_read_bytes_total") < 0) {
                throw new AssertionError("the published meters are not in the scrape");
            }
            group.close();
            prometheus.close();
        }
    }
}
