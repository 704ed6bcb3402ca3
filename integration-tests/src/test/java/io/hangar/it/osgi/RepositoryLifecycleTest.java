package io.hangar.it.osgi;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.spi.repo.AuditEvent;
import io.hangar.spi.repo.AuditQuery;
import io.hangar.spi.repo.RepoCondition;
import io.hangar.spi.repo.RepoWrite;
import io.hangar.spi.repo.RepositoryStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
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
 * In a real framework: a served volume registers its repository store (the engine bundle's
 * RepositoryStoreProvider) as a service with its {@code volume.name}; the store leaves when the engine bundle
 * stops and returns, with everything committed, when it starts again; it leaves with the volume's
 * configuration.
 */
public class RepositoryLifecycleTest {
    private static final String NAME = "repository";

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
        bundle("io.hangar.meta.sqlite").start();
    }

    private Bundle bundle(String bsn) {
        return Arrays.stream(context.getBundles()).filter(b -> bsn.equals(b.getSymbolicName())).findFirst()
                .orElseThrow(() -> new AssertionError("bundle " + bsn + " is not installed"));
    }

    @Test
    public void theRepositoryStoreFollowsTheVolumeAndItsEngineBundle() throws Exception {
        Path work = Files.createDirectories(Path.of(context.getProperty("hangar.it.work"), "repo-" + System.nanoTime()));
        config = configAdmin.createFactoryConfiguration("io.hangar.volume", "?");
        Dictionary<String, Object> p = new Hashtable<>();
        p.put("name", NAME);
        p.put("meta", "sqlite://" + work.resolve("meta.db"));
        p.put("storage", "file://" + work.resolve("chunks"));
        config.update(p);
        ServiceTracker<RepositoryStore, RepositoryStore> stores = new ServiceTracker<>(context,
                context.createFilter("(&(objectClass=" + RepositoryStore.class.getName() + ")(volume.name=" + NAME
                        + "))"), null);
        stores.open();
        RepositoryStore s = stores.waitForService(60_000);
        assertNotNull(s, "the volume registers its repository store");
        assertTrue(s.commit(List.of(RepoCondition.absent("team/a")), List.of(RepoWrite.put("team/a", "x".getBytes(UTF_8))),
                List.of(new AuditEvent("a", "admin", null, "{}".getBytes(UTF_8)))));

        bundle("io.hangar.meta.sqlite").stop();
        for (int i = 0; i < 100 && stores.getService() != null; i++) {
            Thread.sleep(100);
        }
        assertNull(stores.getService(), "no store while the engine bundle is stopped");

        bundle("io.hangar.meta.sqlite").start();
        RepositoryStore back = stores.waitForService(60_000);
        assertNotNull(back, "the store returns with the engine");
        assertTrue(back != s, "a new store on the reopened backend");
        assertEquals("x", new String(back.get("team/a").orElseThrow().value(), UTF_8));
        assertEquals(1, back.audit(AuditQuery.all(10)).entries().size());

        config.delete();
        config = null;
        for (int i = 0; i < 100 && stores.getService() != null; i++) {
            Thread.sleep(100);
        }
        assertNull(stores.getService(), "the store leaves with the volume");
        stores.close();
    }
}
