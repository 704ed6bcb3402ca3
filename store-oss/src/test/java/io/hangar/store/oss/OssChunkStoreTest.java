package io.hangar.store.oss;

import io.hangar.spi.store.ChunkStore;
import io.hangar.tck.store.ChunkStoreTck;
import io.hangar.testing.ceph.CephTestCluster;
import io.hangar.testing.s3.RgwTestBuckets;
import java.net.URI;
import java.util.UUID;

/**
 * The chunk store kit, unchanged, in OSS mode against radosgw: virtual-hosted style, the bucket's host name
 * ({@code <bucket>.<rgw_dns_name>}) resolved to loopback by the HTTP client's resolver, and only that name:
 * a path-style request (to the bare endpoint host) could not even be resolved.
 */
class OssChunkStoreTest extends ChunkStoreTck {
    private static String bucket;
    private String prefix;

    static String url(String bucket, String prefix) throws Exception {
        String dns = CephTestCluster.get("RGW_DNS_NAME");
        return "oss://" + bucket + (prefix.isEmpty() ? "" : "/" + prefix) + "?endpoint=http://" + dns + ":"
                + CephTestCluster.get("RGW_PORT") + "&resolve=" + bucket + "." + dns + ":127.0.0.1"
                + "&storage-class=Standard&profile=" + RgwTestBuckets.PROFILE + "&credentials-file="
                + RgwTestBuckets.credentialsFile();
    }

    @Override
    protected ChunkStore newStore() throws Exception {
        synchronized (OssChunkStoreTest.class) {
            if (bucket == null) {
                bucket = RgwTestBuckets.newBucket("oss-tck");
            }
        }
        prefix = "t-" + UUID.randomUUID();
        return new OssChunkStoreProvider().open(URI.create(url(bucket, prefix)));
    }

    @Override
    protected ChunkStore reopen() throws Exception {
        return new OssChunkStoreProvider().open(URI.create(url(bucket, prefix)));
    }
}
