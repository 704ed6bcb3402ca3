package io.hangar.store.oss;

import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.store.ChunkStoreProvider;
import io.hangar.spi.store.StoreException;
import io.hangar.spi.store.StoreException.Kind;
import io.hangar.store.s3.common.S3ChunkStore;
import io.hangar.store.s3.common.S3Settings;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.osgi.service.component.annotations.Component;

/**
 * Opens {@code oss://bucket[/prefix]?region=cn-hangzhou[&internal=true]} chunk stores: Alibaba Cloud OSS
 * through its S3-compatible API, with the S3 store of store-s3 (embedded privately) set up the way OSS
 * needs it: virtual-hosted-style addressing, the endpoint {@code https://oss-<region>[-internal].aliyuncs.com}
 * from the region (or {@code endpoint=}), request checksums only where required, no {@code aws-chunked}
 * uploads, the storage class in OSS's {@code x-oss-storage-class} header ({@code storage-class=Standard|IA|
 * Archive|ColdArchive}). Other parameters as for {@code s3://}: {@code profile}, {@code credentials-file},
 * {@code max-connections}, {@code retries}, {@code resolve}.
 */
@Component(service = ChunkStoreProvider.class, property = "hangar.store.scheme=oss")
public class OssChunkStoreProvider implements ChunkStoreProvider {
    private static final List<String> KNOWN;
    private static final Pattern REGION = Pattern.compile("[a-z]{2,}(-[a-z0-9]+)+");

    static {
        List<String> k = new ArrayList<>(List.of("region", "internal", "endpoint"));
        k.addAll(S3Settings.COMMON);
        KNOWN = List.copyOf(k);
    }

    @Override
    public Set<String> schemes() {
        return Set.of("oss");
    }

    @Override
    public ChunkStore open(URI url) throws StoreException {
        return S3ChunkStore.open(settings(url));
    }

    static S3Settings settings(URI url) throws StoreException {
        String[] bp = S3Settings.bucketAndPrefix(url, "oss");
        Map<String, String> q = S3Settings.query(url, KNOWN);
        String region = q.get("region");
        if (region != null && region.toLowerCase(Locale.ROOT).startsWith("oss-")) {
            region = region.substring(4); // the OSS region id (oss-cn-hangzhou) names the same region
        }
        String ep = q.get("endpoint");
        boolean internal = S3Settings.bool(q, "internal", false);
        URI endpoint;
        if (ep != null && !ep.isEmpty()) {
            endpoint = S3Settings.endpoint(ep);
        } else {
            if (region == null || region.isEmpty()) {
                throw new StoreException(Kind.INVALID, "an oss:// store needs region=… (e.g. cn-hangzhou) or endpoint=…");
            }
            if (!REGION.matcher(region).matches()) {
                throw new StoreException(Kind.INVALID, "not an OSS region: '" + region + "' (e.g. cn-hangzhou)");
            }
            endpoint = URI.create("https://oss-" + region + (internal ? "-internal" : "") + ".aliyuncs.com");
        }
        return S3Settings.of("oss", bp[0], bp[1], endpoint, region == null || region.isEmpty() ? "us-east-1" : region,
                false, true, q, url);
    }
}
