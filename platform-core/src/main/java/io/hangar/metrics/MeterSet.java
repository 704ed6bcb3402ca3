package io.hangar.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.ToDoubleFunction;

/**
 * The meters of one thing that opens and closes (a volume, a mount, a gateway): all carry its tags, all are
 * removed together when it closes ({@link #close()}), so a reopened volume starts afresh and a closed one
 * leaves no series. Without a registry (null: the CLI on the class path) they count into one nobody reads.
 */
public final class MeterSet {
    /** The latency buckets of every Hangar histogram: 100 µs doubling to about 13 s (18 buckets and +Inf). */
    public static final List<Duration> LATENCY_BUCKETS = latencyBuckets();

    private final MeterRegistry registry;
    private final Tags tags;
    private final List<Meter> meters = new CopyOnWriteArrayList<>();

    public MeterSet(MeterRegistry registry, Tags tags) {
        this.registry = registry != null ? registry : new CompositeMeterRegistry();
        this.tags = tags;
    }

    private static List<Duration> latencyBuckets() {
        Duration[] d = new Duration[18];
        for (int i = 0; i < d.length; i++) {
            d[i] = Duration.ofNanos(100_000L << i);
        }
        return List.of(d);
    }

    private <M extends Meter> M keep(M m) {
        meters.add(m);
        return m;
    }

    /** A counter; {@code unit} ("bytes") or null. */
    public Counter counter(String name, String unit, String help, String... extraTags) {
        return keep(Counter.builder(name).baseUnit(unit).tags(tags).tags(extraTags).description(help)
                .register(registry));
    }

    /** A latency histogram with {@link #LATENCY_BUCKETS}. */
    public Timer timer(String name, String help, String... extraTags) {
        return keep(Timer.builder(name).tags(tags).tags(extraTags).description(help)
                .serviceLevelObjectives(LATENCY_BUCKETS.toArray(Duration[]::new)).register(registry));
    }

    /** A timer without buckets (count, sum, max): for waits, not for latency distributions. */
    public Timer summaryTimer(String name, String help) {
        return keep(Timer.builder(name).tags(tags).description(help).register(registry));
    }

    public DistributionSummary summary(String name, String unit, String help) {
        return keep(DistributionSummary.builder(name).baseUnit(unit).tags(tags).description(help).register(registry));
    }

    /** A gauge on {@code obj}, held strongly (the thing measured lives as long as its meters). */
    public <T> Gauge gauge(String name, String unit, String help, T obj, ToDoubleFunction<T> f) {
        return keep(Gauge.builder(name, obj, f).baseUnit(unit).tags(tags).description(help).strongReference(true)
                .register(registry));
    }

    /** A counter read from {@code obj} at each scrape (for counts kept elsewhere, like a cache's). */
    public <T> FunctionCounter functionCounter(String name, String unit, String help, T obj, ToDoubleFunction<T> f) {
        return keep(FunctionCounter.builder(name, obj, f).baseUnit(unit).tags(tags).description(help)
                .register(registry));
    }

    /** Removes every meter of the set from the registry (and from every registry that was published to). */
    public void close() {
        meters.forEach(registry::remove);
        meters.clear();
    }
}
