package io.hangar.store.rados;

import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.store.ChunkStoreProvider;
import io.hangar.spi.store.StoreException;
import java.net.URI;
import java.util.Set;
import org.osgi.service.component.annotations.Component;

/**
 * Opens {@code rados://pool[/namespace]?conf=/etc/ceph/ceph.conf&user=admin[&keyring=…]} chunk stores
 * (parameters in {@link RadosUrl}).
 */
@Component(service = ChunkStoreProvider.class, property = "hangar.store.scheme=rados")
public class RadosChunkStoreProvider implements ChunkStoreProvider {

    @Override
    public Set<String> schemes() {
        return Set.of("rados");
    }

    @Override
    public ChunkStore open(URI url) throws StoreException {
        return RadosChunkStore.open(RadosUrl.parse(url));
    }
}
