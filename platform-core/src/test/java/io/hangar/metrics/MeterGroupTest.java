package io.hangar.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class MeterGroupTest {
    @Test
    void metersMadeBeforeARegistryArrivesCountIntoItOnceItIsPublishedTo() {
        MeterGroup group = new MeterGroup();
        Counter c = Counter.builder("hangar_test").tag("volume", "v").register(group.registry());
        c.increment(5); // nobody reads it yet: counted into nothing
        SimpleMeterRegistry runtime = new SimpleMeterRegistry();
        group.publishTo(runtime);
        c.increment(2);
        assertEquals(2.0, runtime.get("hangar_test").tag("volume", "v").counter().count());
    }

    @Test
    void withdrawingTakesOutTheGroupsMetersAndNoOneElses() {
        MeterGroup group = new MeterGroup();
        SimpleMeterRegistry runtime = new SimpleMeterRegistry();
        group.publishTo(runtime);
        Counter mine = Counter.builder("hangar_mine").register(group.registry());
        Counter.builder("hangar_other").register(runtime).increment();
        mine.increment();
        group.withdrawFrom(runtime);
        assertNull(runtime.find("hangar_mine").meter());
        assertNotNull(runtime.find("hangar_other").counter());
        mine.increment(); // no longer fed
        assertNull(runtime.find("hangar_mine").meter());
        assertFalse(runtime.isClosed());
    }

    @Test
    void aRemovedMeterLeavesEveryRegistryItWasPublishedTo() {
        MeterGroup group = new MeterGroup();
        SimpleMeterRegistry a = new SimpleMeterRegistry();
        SimpleMeterRegistry b = new SimpleMeterRegistry();
        group.publishTo(a);
        group.publishTo(b);
        AtomicLong held = new AtomicLong(7);
        Gauge g = Gauge.builder("hangar_gauge", held, AtomicLong::get).register(group.registry());
        assertEquals(7.0, a.get("hangar_gauge").gauge().value());
        assertEquals(7.0, b.get("hangar_gauge").gauge().value());
        group.registry().remove(g); // what MeterSet.close does: the composite removes the published copies
        assertNull(a.find("hangar_gauge").meter());
        assertNull(b.find("hangar_gauge").meter());
    }

    @Test
    void closingRemovesEverythingButLeavesTheRegistriesOpen() {
        MeterGroup group = new MeterGroup();
        SimpleMeterRegistry runtime = new SimpleMeterRegistry();
        group.publishTo(runtime);
        Counter.builder("hangar_one").register(group.registry());
        Counter.builder("hangar_two").register(group.registry());
        assertEquals(2, runtime.getMeters().size());
        group.close();
        assertEquals(0, runtime.getMeters().size());
        assertFalse(runtime.isClosed());
    }
}
