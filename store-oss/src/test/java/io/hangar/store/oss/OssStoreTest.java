package io.hangar.store.oss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.store.ChunkStoreProvider;
import io.hangar.spi.store.StoreException;
import io.hangar.spi.store.StoreException.Kind;
import io.hangar.store.s3.common.S3Settings;
import io.hangar.testing.ceph.VolumeIntegrity;
import io.hangar.testing.s3.RgwTestBuckets;
import java.net.URI;
import java.nio.file.Path;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** OSS mode: endpoints from region names, a whole volume through virtual-hosted requests to radosgw. */
class OssStoreTest {
    @TempDir
    Path dir;

    @Test
    void volumeInOssModeReadsBackAndChecksClean() throws Exception {
        VolumeIntegrity.run(dir, OssChunkStoreTest.url(RgwTestBuckets.newBucket("oss-vol"), "vols"));
    }

    @Test
    void theProviderIsFoundByServiceLoader() {
        int oss = 0;
        for (ChunkStoreProvider p : ServiceLoader.load(ChunkStoreProvider.class)) {
            oss += p.schemes().contains("oss") ? 1 : 0;
        }
        assertEquals(1, oss);
    }

    @Test
    void endpointsComeFromTheRegion() throws Exception {
        S3Settings s = OssChunkStoreProvider.settings(URI.create("oss://models/llm?region=cn-hangzhou"));
        assertEquals(URI.create("https://oss-cn-hangzhou.aliyuncs.com"), s.endpoint());
        assertEquals("cn-hangzhou", s.region());
        assertFalse(s.pathStyle());
        assertTrue(s.ossHeaders());
        assertEquals("llm/", s.prefix());
        s = OssChunkStoreProvider.settings(URI.create("oss://models?region=oss-cn-beijing&internal=true"));
        assertEquals(URI.create("https://oss-cn-beijing-internal.aliyuncs.com"), s.endpoint());
        assertEquals("oss://models?region=oss-cn-beijing&internal=true", s.describe());
    }

    @Test
    void badUrlsAreInvalid() {
        for (String u : new String[] {"oss://b", "oss://b?region=Hangzhou", "oss://b?region=cn-hangzhou&path-style=true",
                "oss://b?region=cn-hangzhou&internal=maybe", "oss:///x?region=cn-hangzhou"}) {
            assertEquals(Kind.INVALID, assertThrows(StoreException.class,
                    () -> new OssChunkStoreProvider().open(URI.create(u)), u).kind(), u);
        }
    }

    @Test
    void aMissingBucketIsNamed() throws Exception {
        StoreException e = assertThrows(StoreException.class,
                () -> new OssChunkStoreProvider().open(URI.create(OssChunkStoreTest.url("no-such-oss-bucket", ""))));
        assertEquals(Kind.NOT_FOUND, e.kind(), e.getMessage());
        assertTrue(e.getMessage().contains("no bucket 'no-such-oss-bucket'"), e.getMessage());
    }

    @Test
    void describeHasNoSecret() throws Exception {
        try (ChunkStore s = new OssChunkStoreProvider().open(
                URI.create(OssChunkStoreTest.url(RgwTestBuckets.newBucket("oss-d"), "")))) {
            assertTrue(s.describe().startsWith("oss://oss-d-"), s.describe());
            assertFalse(s.describe().toLowerCase().contains("secret"), s.describe());
        }
    }
}
