package io.hangar.it.osgi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.fs.Caller;
import io.hangar.fs.OpenFlags;
import io.hangar.vfs.FileHandle;
import io.hangar.vfs.Volume;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Dictionary;
import java.util.Hashtable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.util.tracker.ServiceTracker;

/**
 * In a real framework: the runtime's one registry (metrics-prometheus) receives the volume's and the engine's
 * meters; it may stop and start under a serving volume, which keeps serving and publishes to the new one; a
 * bundle or a volume that stops takes exactly its own series out.
 */
public class MetricsLifecycleTest {
    private static final String NAME = "metered";

    @InjectBundleContext
    BundleContext context;

    @InjectService
    ConfigurationAdmin configAdmin;

    private Configuration config;

    @AfterEach
    void removeVolume() throws Exception {
        if (config != null) {
            config.delete();
        }
        bundle("io.hangar.metrics.prometheus").start();
        bundle("io.hangar.meta.sqlite").start();
    }

    private Bundle bundle(String bsn) {
        return Arrays.stream(context.getBundles()).filter(b -> bsn.equals(b.getSymbolicName())).findFirst()
                .orElseThrow(() -> new AssertionError("bundle " + bsn + " is not installed"));
    }

    private <T> ServiceTracker<T, T> tracker(Class<T> type, String filter) throws Exception {
        ServiceTracker<T, T> t = new ServiceTracker<>(context, context.createFilter("(&(objectClass="
                + type.getName() + ")" + filter + ")"), null);
        t.open();
        return t;
    }

    private MeterRegistry registry() throws Exception {
        MeterRegistry r = tracker(MeterRegistry.class, "").waitForService(30_000);
        assertNotNull(r, "metrics-prometheus registers a MeterRegistry");
        return r;
    }

    private static double counter(MeterRegistry r, String name, String... tags) {
        Counter c = r.find(name).tags(tags).counter();
        return c == null ? -1 : c.count();
    }

    private static long seriesOf(MeterRegistry r, String tag, String value) {
        return r.getMeters().stream().map(Meter::getId).filter(id -> value.equals(id.getTag(tag))).count();
    }

    private void write(Volume v, String file, int bytes) throws Exception {
        try (FileHandle h = v.create(Caller.ROOT, Volume.ROOT, file, 0644, OpenFlags.RDWR)) {
            h.write(0, new byte[bytes], 0, bytes);
            h.fsync();
        }
    }

    @Test
    public void metersFollowTheRegistryTheVolumeAndTheEngineBundle() throws Exception {
        Path work = Files.createDirectories(Path.of(context.getProperty("hangar.it.work"), "metrics-" + System.nanoTime()));
        config = configAdmin.createFactoryConfiguration("io.hangar.volume", "?");
        Dictionary<String, Object> p = new Hashtable<>();
        p.put("name", NAME);
        p.put("meta", "sqlite://" + work.resolve("meta.db"));
        p.put("storage", "file://" + work.resolve("chunks"));
        config.update(p);
        ServiceTracker<Volume, Volume> volumes = tracker(Volume.class, "(volume.name=" + NAME + ")");
        Volume v = volumes.waitForService(60_000);
        assertNotNull(v, "the volume serves");

        MeterRegistry first = registry();
        write(v, "a", 100_000);
        assertEquals(100_000.0, counter(first, "hangar_object_request_data", "volume", NAME, "method", "PUT"));
        assertEquals(1.0, counter(first, "hangar_vfs_slices_committed", "volume", NAME));
        assertTrue(counter(first, "hangar_meta_retries", "engine", "sqlite") >= 0, "the engine's meters are there");

        // The registry's bundle goes and comes back: the volume keeps serving, and publishes to the new one.
        Bundle metrics = bundle("io.hangar.metrics.prometheus");
        metrics.stop();
        write(v, "b", 5_000);
        metrics.start();
        MeterRegistry second = registry();
        assertTrue(first != second, "a new registry after the restart");
        write(v, "c", 7_000);
        assertEquals(7_000.0, counter(second, "hangar_object_request_data", "volume", NAME, "method", "PUT"),
                "counted from the new registry's start, nothing while there was none");

        // The engine bundle stops: its provider's series leave with it (the volume closes, its series too).
        bundle("io.hangar.meta.sqlite").stop();
        assertEquals(-1.0, counter(second, "hangar_meta_retries", "engine", "sqlite"));
        for (int i = 0; i < 100 && seriesOf(second, "volume", NAME) > 0; i++) {
            Thread.sleep(100);
        }
        assertEquals(0, seriesOf(second, "volume", NAME), "a closed volume leaves no series behind");
        bundle("io.hangar.meta.sqlite").start();
        Volume again = volumes.waitForService(60_000);
        assertNotNull(again, "the volume serves again once its engine is back");
        for (int i = 0; i < 100 && counter(second, "hangar_vfs_slices_committed", "volume", NAME) < 0; i++) {
            Thread.sleep(100);
        }
        assertEquals(0.0, counter(second, "hangar_vfs_slices_committed", "volume", NAME),
                "the reopened volume's meters start again at zero");

        // The volume's configuration goes: so do its series.
        config.delete();
        config = null;
        for (int i = 0; i < 100 && seriesOf(second, "volume", NAME) > 0; i++) {
            Thread.sleep(100);
        }
        assertEquals(0, seriesOf(second, "volume", NAME));
        assertNull(volumes.getService());
    }
}
