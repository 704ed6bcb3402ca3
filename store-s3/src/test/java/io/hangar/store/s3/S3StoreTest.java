package io.hangar.store.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.store.ChunkStoreProvider;
import io.hangar.spi.store.StoreException;
import io.hangar.spi.store.StoreException.Kind;
import io.hangar.store.s3.common.S3Settings;
import io.hangar.testing.ceph.CephTestCluster;
import io.hangar.testing.ceph.VolumeIntegrity;
import io.hangar.testing.s3.RgwTestBuckets;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the kit does not cover: failures named clearly, no secret in messages, a whole volume on radosgw. */
class S3StoreTest {
    @TempDir
    Path dir;

    private static ChunkStore open(String url) throws StoreException {
        return new S3ChunkStoreProvider().open(URI.create(url));
    }

    @Test
    void volumeFormattedOnRadosgwReadsBackAndChecksClean() throws Exception {
        VolumeIntegrity.run(dir, S3ChunkStoreTest.url(RgwTestBuckets.newBucket("vol"), ""));
    }

    @Test
    void theProviderIsFoundByServiceLoader() {
        boolean found = false;
        for (ChunkStoreProvider p : ServiceLoader.load(ChunkStoreProvider.class)) {
            found |= p.schemes().contains("s3");
        }
        assertTrue(found);
    }

    @Test
    void aMissingBucketIsNamed() throws Exception {
        StoreException e = assertThrows(StoreException.class, () -> open(S3ChunkStoreTest.url("no-such-bucket-x", "")));
        assertEquals(Kind.NOT_FOUND, e.kind(), e.getMessage());
        assertTrue(e.getMessage().contains("no bucket 'no-such-bucket-x'"), e.getMessage());
    }

    @Test
    void formatOnAMissingBucketFailsWithOneLineNamingIt() throws Exception {
        String url = S3ChunkStoreTest.url("no-such-bucket-y", "");
        io.hangar.fs.FsException e = assertThrows(io.hangar.fs.FsException.class, () -> io.hangar.vfs.standalone.Volumes
                .format("sqlite://" + dir.resolve("m.db"), "vol", url, java.util.Map.of()));
        assertTrue(e.getMessage().contains("chunk store unreachable") && e.getMessage().contains("no bucket 'no-such-bucket-y'"),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void wrongCredentialsAreAPermissionErrorAndTheSecretIsNeverShown() throws Exception {
        String bucket = RgwTestBuckets.newBucket("perm");
        String secret = "WRONGsecretWRONGsecretWRONGsecret0123456";
        Path creds = dir.resolve("creds");
        Files.writeString(creds, "[bad]\naws_access_key_id = " + CephTestCluster.get("S3_ACCESS_KEY")
                + "\naws_secret_access_key = " + secret + "\n");
        String url = S3ChunkStoreTest.url(bucket, "").replace("profile=" + RgwTestBuckets.PROFILE, "profile=bad")
                .replace("credentials-file=" + RgwTestBuckets.credentialsFile(), "credentials-file=" + creds);
        StoreException e = assertThrows(StoreException.class, () -> open(url));
        assertEquals(Kind.PERMISSION, e.kind(), e.getMessage());
        assertFalse(e.getMessage().contains(secret), e.getMessage());
        assertTrue(e.getMessage().contains("refused the credentials of profile 'bad'"), e.getMessage());
    }

    @Test
    void aMissingProfileIsAPermissionError() throws Exception {
        String url = S3ChunkStoreTest.url(RgwTestBuckets.newBucket("prof"), "")
                .replace("profile=" + RgwTestBuckets.PROFILE, "profile=nobody");
        StoreException e = assertThrows(StoreException.class, () -> open(url));
        assertEquals(Kind.PERMISSION, e.kind(), e.getMessage());
    }

    @Test
    void anEndpointThatIsDownFailsTransiently() throws Exception {
        String url = "s3://b?endpoint=http://127.0.0.1:9&path-style=true&retries=1&profile=" + RgwTestBuckets.PROFILE
                + "&credentials-file=" + RgwTestBuckets.credentialsFile();
        StoreException e = assertThrows(StoreException.class, () -> open(url));
        assertEquals(Kind.TRANSIENT, e.kind(), e.getMessage());
        assertTrue(e.getMessage().contains("cannot reach http://127.0.0.1:9"), e.getMessage());
    }

    @Test
    void badUrlsAreInvalid() {
        for (String u : new String[] {"s3:///x", "s3://b?bogus=1", "s3://b?endpoint=ftp://x", "s3://b?path-style=maybe",
                "s3://b?retries=-1", "s3://b?resolve=nocolon"}) {
            assertEquals(Kind.INVALID, assertThrows(StoreException.class, () -> open(u), u).kind(), u);
        }
    }

    @Test
    void describeIsTheUrlAsGiven() throws Exception {
        S3Settings s = S3ChunkStoreProvider.settings(URI.create("s3://b/p/q?region=eu-west-1&profile=x"));
        assertEquals("b", s.bucket());
        assertEquals("p/q/", s.prefix());
        assertEquals("s3://b/p/q?region=eu-west-1&profile=x", s.describe());
        assertFalse(s.pathStyle());
    }

    @Test
    void objectsLandUnderThePrefixAndLargeOnesReadWhole() throws Exception {
        String bucket = RgwTestBuckets.newBucket("pre");
        try (ChunkStore s = open(S3ChunkStoreTest.url(bucket, "vols/a"))) {
            byte[] big = new byte[9 << 20];
            new java.util.Random(3).nextBytes(big);
            s.put("v/chunks/0/0/1_0_9437184", big, 0, big.length);
            assertArrayEquals(big, s.get("v/chunks/0/0/1_0_9437184", 0, -1));
            assertEquals(big.length, RgwTestBuckets.admin()
                    .headObject(r -> r.bucket(bucket).key("vols/a/v/chunks/0/0/1_0_9437184")).contentLength());
        }
    }
}
