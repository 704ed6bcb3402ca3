package io.hangar.store.rados;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.store.StoreException;
import io.hangar.spi.store.StoreException.Kind;
import io.hangar.testing.ceph.CephTestCluster;
import io.hangar.testing.ceph.VolumeIntegrity;
import java.net.URI;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The only OSD stopped and started again: store operations fail TRANSIENT after {@code op-timeout} while it
 * is down and work once it is back; a volume's write stream waits through the outage and loses nothing.
 */
class RadosFaultTest {
    @TempDir
    Path dir;

    @AfterEach
    void osdBack() throws Exception {
        CephTestCluster.daemon("start-osd"); // whatever happened, the next test has a cluster
    }

    @Test
    void operationsFailTransientlyWhileTheOsdIsDownAndWorkWhenItIsBack() throws Exception {
        String url = RadosChunkStoreTest.url("fault-" + UUID.randomUUID()) + "&op-timeout=3";
        try (ChunkStore s = new RadosChunkStoreProvider().open(URI.create(url))) {
            byte[] data = new byte[100_000];
            new java.util.Random(5).nextBytes(data);
            s.put("a/before", data, 0, data.length);
            CephTestCluster.daemon("stop-osd");
            long t0 = System.nanoTime();
            StoreException e = assertThrows(StoreException.class, () -> s.put("a/during", data, 0, data.length));
            assertEquals(Kind.TRANSIENT, e.kind(), e.getMessage());
            assertTrue(e.getMessage().contains("ETIMEDOUT"), e.getMessage());
            assertEquals(Kind.TRANSIENT, assertThrows(StoreException.class, () -> s.get("a/before", 0, -1)).kind());
            assertTrue(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0) < 60);
            CephTestCluster.daemon("start-osd");
            s.put("a/after", data, 0, data.length);
            assertArrayEquals(data, s.get("a/before", 0, -1));
            assertArrayEquals(data, s.get("a/after", 0, -1));
        }
    }

    @Test
    void aWriteStreamWaitsThroughAnOsdRestartAndLosesNothing() throws Exception {
        VolumeIntegrity.writeThrough(dir, RadosChunkStoreTest.url("fault-" + UUID.randomUUID()), () -> {
            CephTestCluster.daemon("stop-osd");
            Thread.sleep(5000);
            CephTestCluster.daemon("start-osd");
        });
    }
}
