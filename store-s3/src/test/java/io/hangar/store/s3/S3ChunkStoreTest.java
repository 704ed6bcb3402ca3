package io.hangar.store.s3;

import io.hangar.spi.store.ChunkStore;
import io.hangar.tck.store.ChunkStoreTck;
import io.hangar.testing.ceph.CephTestCluster;
import io.hangar.testing.s3.RgwTestBuckets;
import java.net.URI;
import java.util.UUID;

/**
 * The chunk store kit, unchanged, on radosgw in path style: one bucket for the class, each test below a
 * prefix of its own (so the kit also proves the prefix is applied and stripped everywhere).
 */
class S3ChunkStoreTest extends ChunkStoreTck {
    private static String bucket;
    private String prefix;

    static String url(String bucket, String prefix) throws Exception {
        return "s3://" + bucket + (prefix.isEmpty() ? "" : "/" + prefix) + "?endpoint="
                + CephTestCluster.get("RGW_ENDPOINT") + "&region=" + CephTestCluster.get("S3_REGION")
                + "&path-style=true&profile=" + RgwTestBuckets.PROFILE + "&credentials-file="
                + RgwTestBuckets.credentialsFile();
    }

    @Override
    protected ChunkStore newStore() throws Exception {
        synchronized (S3ChunkStoreTest.class) {
            if (bucket == null) {
                bucket = RgwTestBuckets.newBucket("tck");
            }
        }
        prefix = "t-" + UUID.randomUUID();
        return new S3ChunkStoreProvider().open(URI.create(url(bucket, prefix)));
    }

    @Override
    protected ChunkStore reopen() throws Exception {
        return new S3ChunkStoreProvider().open(URI.create(url(bucket, prefix)));
    }
}
