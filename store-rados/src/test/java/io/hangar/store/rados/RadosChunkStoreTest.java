package io.hangar.store.rados;

import io.hangar.spi.store.ChunkStore;
import io.hangar.tck.store.ChunkStoreTck;
import io.hangar.testing.ceph.CephTestCluster;
import java.net.URI;
import java.util.UUID;

/** The chunk store kit, unchanged, on a real Ceph cluster: each test in a namespace of its own. */
class RadosChunkStoreTest extends ChunkStoreTck {
    private String namespace;

    static String url(String namespace) throws Exception {
        return "rados://" + CephTestCluster.get("RADOS_POOL") + "/" + namespace + "?conf="
                + CephTestCluster.get("CEPH_CONF") + "&user=" + CephTestCluster.get("CEPH_USER");
    }

    @Override
    protected ChunkStore newStore() throws Exception {
        namespace = "tck-" + UUID.randomUUID();
        return new RadosChunkStoreProvider().open(URI.create(url(namespace)));
    }

    @Override
    protected ChunkStore reopen() throws Exception {
        return new RadosChunkStoreProvider().open(URI.create(url(namespace)));
    }
}
