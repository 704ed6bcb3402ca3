package io.hangar.store.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.store.StoreException;
import io.hangar.spi.store.StoreException.Kind;
import io.hangar.testing.ceph.CephTestCluster;
import io.hangar.testing.ceph.VolumeIntegrity;
import io.hangar.testing.s3.RgwTestBuckets;
import java.net.URI;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * radosgw stopped and started again: requests are retried and then fail TRANSIENT while it is down, work
 * again once it is back; a volume's write stream waits through the outage and loses nothing.
 */
class S3FaultTest {
    @TempDir
    Path dir;

    @AfterEach
    void rgwBack() throws Exception {
        CephTestCluster.daemon("start-rgw");
    }

    @Test
    void requestsFailTransientlyWhileRadosgwIsDownAndWorkWhenItIsBack() throws Exception {
        String bucket = RgwTestBuckets.newBucket("fault");
        try (ChunkStore s = new S3ChunkStoreProvider().open(URI.create(S3ChunkStoreTest.url(bucket, "") + "&retries=2"))) {
            byte[] data = new byte[100_000];
            new java.util.Random(5).nextBytes(data);
            s.put("a/before", data, 0, data.length);
            CephTestCluster.daemon("stop-rgw");
            StoreException e = assertThrows(StoreException.class, () -> s.put("a/during", data, 0, data.length));
            assertEquals(Kind.TRANSIENT, e.kind(), e.getMessage());
            assertEquals(Kind.TRANSIENT, assertThrows(StoreException.class, () -> s.get("a/before", 0, -1)).kind());
            assertEquals(Kind.TRANSIENT, assertThrows(StoreException.class, () -> s.list("a/", null, 10)).kind());
            CephTestCluster.daemon("start-rgw");
            s.put("a/after", data, 0, data.length);
            assertArrayEquals(data, s.get("a/before", 0, -1));
            assertArrayEquals(data, s.get("a/after", 0, -1));
        }
    }

    @Test
    void aWriteStreamWaitsThroughARadosgwRestartAndLosesNothing() throws Exception {
        VolumeIntegrity.writeThrough(dir, S3ChunkStoreTest.url(RgwTestBuckets.newBucket("fault-vol"), ""), () -> {
            CephTestCluster.daemon("stop-rgw");
            Thread.sleep(5000);
            CephTestCluster.daemon("start-rgw");
        });
    }
}
