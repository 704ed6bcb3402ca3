package io.hangar.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.util.ArrayList;
import java.util.List;

/**
 * The meters of one component (a volume, a mount, a store provider), kept in a registry of its own and
 * published to the runtime's registries while they are bound.
 *
 * <p>Why a group of its own: the component creates its meters once, at start, and holds them in fields its
 * hot paths use without a lookup; the runtime's registry may arrive later, leave, or be replaced (its bundle
 * updated) without the component being restarted. Until a registry is published to, the meters count into
 * nothing. When a component stops, {@link #close()} removes exactly its meters from every registry, so a
 * stopped bundle leaves no series behind.
 *
 * <p>Bind it from a dynamic, optional, multiple {@code @Reference} to {@code MeterRegistry}:
 * {@link #publishTo} on bind, {@link #withdrawFrom} on unbind, {@link #close} on deactivate.
 */
public final class MeterGroup implements AutoCloseable {
    private final CompositeMeterRegistry local = new CompositeMeterRegistry();
    private final List<MeterRegistry> targets = new ArrayList<>();

    /** Where the component registers its meters. */
    public MeterRegistry registry() {
        return local;
    }

    /** Publishes every meter, present and future, to {@code target}. */
    public synchronized void publishTo(MeterRegistry target) {
        if (!targets.contains(target)) {
            targets.add(target);
            local.add(target);
        }
    }

    /** Takes this group's meters out of {@code target} and stops feeding it. */
    public synchronized void withdrawFrom(MeterRegistry target) {
        if (targets.remove(target)) {
            local.remove(target);
            for (Meter m : local.getMeters()) {
                target.remove(m.getId());
            }
        }
    }

    /** Withdraws from every registry and forgets every meter; the registries themselves stay open. */
    @Override
    public synchronized void close() {
        for (MeterRegistry t : List.copyOf(targets)) {
            withdrawFrom(t);
        }
        local.clear();
    }
}
