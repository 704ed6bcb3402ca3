package io.hangar.store.s3;

import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.store.ChunkStoreProvider;
import io.hangar.spi.store.StoreException;
import io.hangar.store.s3.common.S3ChunkStore;
import io.hangar.store.s3.common.S3Settings;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.osgi.service.component.annotations.Component;

/**
 * Opens {@code s3://bucket[/prefix]?endpoint=…&region=…&path-style=true} chunk stores: AWS S3 (no endpoint),
 * or any S3 service by endpoint (radosgw, MinIO), path-style when it needs it. Other parameters:
 * {@code profile}, {@code credentials-file}, {@code max-connections} (64), {@code retries} (5),
 * {@code storage-class}, {@code resolve=host:address}.
 */
@Component(service = ChunkStoreProvider.class, property = "hangar.store.scheme=s3")
public class S3ChunkStoreProvider implements ChunkStoreProvider {
    private static final List<String> KNOWN;

    static {
        List<String> k = new ArrayList<>(List.of("endpoint", "region", "path-style"));
        k.addAll(S3Settings.COMMON);
        KNOWN = List.copyOf(k);
    }

    @Override
    public Set<String> schemes() {
        return Set.of("s3");
    }

    @Override
    public ChunkStore open(URI url) throws StoreException {
        return S3ChunkStore.open(settings(url));
    }

    static S3Settings settings(URI url) throws StoreException {
        String[] bp = S3Settings.bucketAndPrefix(url, "s3");
        Map<String, String> q = S3Settings.query(url, KNOWN);
        String ep = q.get("endpoint");
        String region = q.get("region");
        return S3Settings.of("s3", bp[0], bp[1], ep == null || ep.isEmpty() ? null : S3Settings.endpoint(ep),
                region == null || region.isEmpty() ? "us-east-1" : region, S3Settings.bool(q, "path-style", false),
                false, q, url);
    }
}
