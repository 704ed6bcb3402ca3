package io.hangar.frontend.http.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.fs.Entry;
import io.hangar.spi.frontend.Endpoint;
import io.hangar.vfs.standalone.OpenVolume;
import io.hangar.vfs.standalone.Volumes;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.Socket;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * The gateway against the AWS SDK for Java v2 (a real client: SigV4 in headers and presigned URLs,
 * aws-chunked uploads with checksum trailers) and against hand-made requests for what no SDK sends (bad
 * keys, skewed clocks, bodies cut off), on a real SQLite + file-store volume.
 */
class S3GatewayTest {
    static final String AK = "AKFULL";
    static final String SK = "full-secret";
    @TempDir
    static Path dir;
    static OpenVolume volume;
    static Endpoint gateway;
    static String url;
    static S3Client s3;

    /** The block objects in the volume's file store and their sizes. */
    static Map<Path, Long> blocks() throws java.io.IOException {
        Map<Path, Long> out = new java.util.HashMap<>();
        try (java.util.stream.Stream<Path> s = java.nio.file.Files.walk(dir.resolve("chunks"))) {
            for (Path p : (Iterable<Path>) s.filter(java.nio.file.Files::isRegularFile)::iterator) {
                try {
                    out.put(p, java.nio.file.Files.size(p));
                } catch (java.nio.file.NoSuchFileException gone) {
                    // deleted by the reaper meanwhile
                }
            }
        }
        return out;
    }

    @BeforeAll
    static void start() throws Exception {
        String meta = "sqlite://" + dir.resolve("meta.db");
        Volumes.format(meta, "gw", "file://" + dir.resolve("chunks"), Map.of());
        volume = Volumes.open(meta, Map.of("buffer-size", String.valueOf(64 << 20)));
        Path creds = dir.resolve("s3.properties");
        Files.writeString(creds, """
                key.AKREAD.secret = read-secret
                key.AKREAD.read = *
                key.AKONE.secret = one-secret
                key.AKONE.write = one
                """);
        gateway = new S3Frontend(Map.of(Credentials.ENV_ACCESS, AK, Credentials.ENV_SECRET, SK))
                .start(volume, Map.of("listen", "127.0.0.1:0", "credentials", creds.toString()));
        url = gateway.address();
        s3 = client(AK, SK);
    }

    static S3Client client(String ak, String sk) {
        return S3Client.builder().endpointOverride(URI.create(url)).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ak, sk)))
                .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build())
                .httpClient(UrlConnectionHttpClient.create()).build();
    }

    @AfterAll
    static void stop() throws Exception {
        if (s3 != null) {
            s3.close();
        }
        if (gateway != null) {
            gateway.close();
        }
        if (volume != null) {
            volume.close();
        }
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static String md5(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(b));
    }

    static int status(Runnable r) {
        S3Exception e = assertThrows(S3Exception.class, r::run);
        return e.statusCode();
    }

    static S3Exception error(Runnable r) {
        return assertThrows(S3Exception.class, r::run);
    }

    @Test
    void bucketsCreateHeadListDelete() {
        s3.createBucket(b -> b.bucket("life"));
        s3.headBucket(b -> b.bucket("life"));
        assertTrue(s3.listBuckets().buckets().stream().anyMatch(b -> b.name().equals("life")));
        assertEquals("BucketAlreadyOwnedByYou", error(() -> s3.createBucket(b -> b.bucket("life")))
                .awsErrorDetails().errorCode());
        s3.putObject(b -> b.bucket("life").key("x"), RequestBody.fromString("x"));
        S3Exception e = error(() -> s3.deleteBucket(b -> b.bucket("life")));
        assertEquals(409, e.statusCode());
        assertEquals("BucketNotEmpty", e.awsErrorDetails().errorCode());
        s3.deleteObject(b -> b.bucket("life").key("x"));
        s3.deleteBucket(b -> b.bucket("life"));
        assertEquals(404, status(() -> s3.headBucket(b -> b.bucket("life"))));
        try {
            Raw bad = raw("PUT", "/Bad_Name", "", new byte[0], Instant.now(), SK);
            assertEquals(400, bad.status());
            assertTrue(bad.body().contains("<Code>InvalidBucketName</Code>"), bad.body());
        } catch (Exception ex) {
            throw new AssertionError(ex);
        }
        assertEquals("NoSuchBucket", error(() -> s3.listObjectsV2(b -> b.bucket("nobucket")))
                .awsErrorDetails().errorCode());
        // The gateway's own directory is no bucket.
        assertFalse(s3.listBuckets().buckets().stream().anyMatch(b -> b.name().startsWith(".")));
    }

    @Test
    void putGetHeadDeleteWithMetadataAndEtag() throws Exception {
        s3.createBucket(b -> b.bucket("objs"));
        byte[] data = random(3 << 20, 1);
        s3.putObject(b -> b.bucket("objs").key("models/llama/config.json").contentType("application/json")
                .cacheControl("no-cache").metadata(Map.of("team", "tal", "step", "42")), RequestBody.fromBytes(data));
        HeadObjectResponse h = s3.headObject(b -> b.bucket("objs").key("models/llama/config.json"));
        assertEquals("\"" + md5(data) + "\"", h.eTag());
        assertEquals(data.length, h.contentLength());
        assertEquals("application/json", h.contentType());
        assertEquals("no-cache", h.cacheControl());
        assertEquals(Map.of("team", "tal", "step", "42"), h.metadata());
        ResponseBytes<GetObjectResponse> got = s3.getObjectAsBytes(b -> b.bucket("objs").key("models/llama/config.json"));
        assertArrayEquals(data, got.asByteArray());
        // The ETag is stored, not recomputed: it is there for a gateway started later on the same volume.
        Entry e = volume.resolve("/objs/models/llama/config.json");
        assertTrue(new String(volume.getxattr(e.inode(), ObjectStore.XA_ETAG), StandardCharsets.UTF_8)
                .startsWith(md5(data) + " "));
        // Overwrite: the last complete PUT wins.
        s3.putObject(b -> b.bucket("objs").key("models/llama/config.json"), RequestBody.fromString("v2"));
        assertEquals("v2", s3.getObjectAsBytes(b -> b.bucket("objs").key("models/llama/config.json")).asUtf8String());
        s3.deleteObject(b -> b.bucket("objs").key("models/llama/config.json"));
        assertEquals("NoSuchKey", error(() -> s3.getObject(b -> b.bucket("objs").key("models/llama/config.json")))
                .awsErrorDetails().errorCode());
        // The empty directories went with the last object.
        assertEquals(0, s3.listObjectsV2(b -> b.bucket("objs").prefix("models")).keyCount());
        s3.deleteObject(b -> b.bucket("objs").key("never-was"));
        // Nothing left behind in tmp/.
        Entry tmp = volume.resolve("/" + Keys.STATE_DIR + "/tmp");
        assertEquals(List.of(), volume.readdir(tmp.inode(), null, 10, false));
    }

    @Test
    void rangesAndConditions() throws Exception {
        s3.createBucket(b -> b.bucket("ranges"));
        byte[] data = random(100_000, 2);
        s3.putObject(b -> b.bucket("ranges").key("r"), RequestBody.fromBytes(data));
        String etag = "\"" + md5(data) + "\"";
        ResponseBytes<GetObjectResponse> part = s3.getObjectAsBytes(b -> b.bucket("ranges").key("r").range("bytes=10-19"));
        assertEquals("bytes 10-19/100000", part.response().contentRange());
        assertArrayEquals(java.util.Arrays.copyOfRange(data, 10, 20), part.asByteArray());
        byte[] tail = s3.getObjectAsBytes(b -> b.bucket("ranges").key("r").range("bytes=-5")).asByteArray();
        assertArrayEquals(java.util.Arrays.copyOfRange(data, data.length - 5, data.length), tail);
        S3Exception e = error(() -> s3.getObject(b -> b.bucket("ranges").key("r").range("bytes=100000-")));
        assertEquals(416, e.statusCode());
        assertEquals("InvalidRange", e.awsErrorDetails().errorCode());
        assertEquals(304, status(() -> s3.getObject(b -> b.bucket("ranges").key("r").ifNoneMatch(etag))));
        assertEquals(412, status(() -> s3.getObject(b -> b.bucket("ranges").key("r").ifMatch("\"nope\""))));
        assertEquals(data.length, s3.getObjectAsBytes(b -> b.bucket("ranges").key("r").ifMatch(etag)).asByteArray().length);
        Instant later = Instant.now().plusSeconds(3600);
        assertEquals(304, status(() -> s3.getObject(b -> b.bucket("ranges").key("r").ifModifiedSince(later))));
        assertEquals(412, status(() -> s3.getObject(b -> b.bucket("ranges").key("r")
                .ifUnmodifiedSince(Instant.now().minusSeconds(3600)))));
        // Conditional write: If-None-Match: * on an existing key.
        assertEquals(412, status(() -> s3.putObject(b -> b.bucket("ranges").key("r").ifNoneMatch("*"),
                RequestBody.fromString("no"))));
        assertArrayEquals(data, s3.getObjectAsBytes(b -> b.bucket("ranges").key("r")).asByteArray());
    }

    @Test
    void listingsPaginateWithPrefixesAndDelimiters() {
        s3.createBucket(b -> b.bucket("lists"));
        List<String> keys = List.of("a-b", "a/1", "a/2", "a/sub/x", "b", "c/d/e", "c/f", "z");
        for (String k : keys) {
            s3.putObject(b -> b.bucket("lists").key(k), RequestBody.fromString(k));
        }
        // Without delimiter: every key, in S3 order ("a-b" before "a/1"), two at a time.
        List<String> seen = new ArrayList<>();
        String token = null;
        int pages = 0;
        do {
            String t = token;
            ListObjectsV2Response r = s3.listObjectsV2(b -> b.bucket("lists").maxKeys(3).continuationToken(t));
            r.contents().forEach(o -> seen.add(o.key()));
            token = r.nextContinuationToken();
            pages++;
        } while (token != null);
        assertEquals(keys, seen);
        assertEquals(3, pages);
        // With delimiter: common prefixes count toward max-keys and are not repeated across pages.
        List<String> items = new ArrayList<>();
        token = null;
        do {
            String t = token;
            ListObjectsV2Response r = s3.listObjectsV2(b -> b.bucket("lists").delimiter("/").maxKeys(2)
                    .continuationToken(t));
            r.contents().forEach(o -> items.add(o.key()));
            r.commonPrefixes().forEach(p -> items.add(p.prefix()));
            token = r.nextContinuationToken();
        } while (token != null);
        items.sort(null);
        assertEquals(List.of("a-b", "a/", "b", "c/", "z"), items);
        ListObjectsV2Response under = s3.listObjectsV2(b -> b.bucket("lists").prefix("a/").delimiter("/"));
        assertEquals(List.of("a/1", "a/2"), under.contents().stream().map(S3Object::key).toList());
        assertEquals(List.of("a/sub/"), under.commonPrefixes().stream().map(CommonPrefix::prefix).toList());
        assertEquals(List.of("c/f", "z"), s3.listObjectsV2(b -> b.bucket("lists").startAfter("c/d/e")).contents()
                .stream().map(S3Object::key).toList());
        // V1 with marker.
        var v1 = s3.listObjects(b -> b.bucket("lists").marker("a/sub/x").maxKeys(2));
        assertEquals(List.of("b", "c/d/e"), v1.contents().stream().map(S3Object::key).toList());
        assertTrue(v1.isTruncated());
        // Delete several at once.
        var del = s3.deleteObjects(b -> b.bucket("lists").delete(d -> d.objects(
                keys.stream().map(k -> ObjectIdentifier.builder().key(k).build()).toList())));
        assertEquals(keys.size(), del.deleted().size());
        assertEquals(0, s3.listObjectsV2(b -> b.bucket("lists")).keyCount());
    }

    @Test
    void multipartUploadCompleteListAbort() throws Exception {
        s3.createBucket(b -> b.bucket("mpu"));
        String id = s3.createMultipartUpload(b -> b.bucket("mpu").key("ckpt/shard-1.safetensors")
                .contentType("application/octet-stream").metadata(Map.of("k", "v"))).uploadId();
        byte[] p1 = random(5 << 20, 3);
        byte[] p2 = random(12345, 4);
        String e1 = s3.uploadPart(b -> b.bucket("mpu").key("ckpt/shard-1.safetensors").uploadId(id).partNumber(1),
                RequestBody.fromBytes(p1)).eTag();
        String e2 = s3.uploadPart(b -> b.bucket("mpu").key("ckpt/shard-1.safetensors").uploadId(id).partNumber(2),
                RequestBody.fromBytes(p2)).eTag();
        assertEquals("\"" + md5(p1) + "\"", e1);
        assertEquals(2, s3.listParts(b -> b.bucket("mpu").key("ckpt/shard-1.safetensors").uploadId(id)).parts().size());
        assertTrue(s3.listMultipartUploads(b -> b.bucket("mpu")).uploads().stream().anyMatch(u -> u.uploadId().equals(id)));
        // Nothing visible before Complete.
        assertEquals(404, status(() -> s3.headObject(b -> b.bucket("mpu").key("ckpt/shard-1.safetensors"))));
        // Parts out of order.
        assertEquals("InvalidPartOrder", error(() -> s3.completeMultipartUpload(b -> b.bucket("mpu")
                .key("ckpt/shard-1.safetensors").uploadId(id).multipartUpload(m -> m.parts(
                        CompletedPart.builder().partNumber(2).eTag(e2).build(),
                        CompletedPart.builder().partNumber(1).eTag(e1).build())))).awsErrorDetails().errorCode());
        Map<Path, Long> blocksBefore = blocks();
        String etag = s3.completeMultipartUpload(b -> b.bucket("mpu").key("ckpt/shard-1.safetensors").uploadId(id)
                .multipartUpload(m -> m.parts(CompletedPart.builder().partNumber(1).eTag(e1).build(),
                        CompletedPart.builder().partNumber(2).eTag(e2).build()))).eTag();
        long written = blocks().entrySet().stream().filter(e -> !blocksBefore.containsKey(e.getKey()))
                .mapToLong(Map.Entry::getValue).sum();
        assertTrue(written < p1.length / 2, "completing shares the parts' blocks, it wrote " + written + " bytes");
        MessageDigest md = MessageDigest.getInstance("MD5");
        md.update(HexFormat.of().parseHex(md5(p1)));
        md.update(HexFormat.of().parseHex(md5(p2)));
        assertEquals("\"" + HexFormat.of().formatHex(md.digest()) + "-2\"", etag);
        byte[] all = s3.getObjectAsBytes(b -> b.bucket("mpu").key("ckpt/shard-1.safetensors")).asByteArray();
        byte[] want = new byte[p1.length + p2.length];
        System.arraycopy(p1, 0, want, 0, p1.length);
        System.arraycopy(p2, 0, want, p1.length, p2.length);
        assertArrayEquals(want, all);
        assertEquals(Map.of("k", "v"), s3.headObject(b -> b.bucket("mpu").key("ckpt/shard-1.safetensors")).metadata());
        assertEquals("NoSuchUpload", error(() -> s3.listParts(b -> b.bucket("mpu").key("ckpt/shard-1.safetensors")
                .uploadId(id))).awsErrorDetails().errorCode());
        // Abort.
        String id2 = s3.createMultipartUpload(b -> b.bucket("mpu").key("gone")).uploadId();
        s3.uploadPart(b -> b.bucket("mpu").key("gone").uploadId(id2).partNumber(1), RequestBody.fromString("x"));
        s3.abortMultipartUpload(b -> b.bucket("mpu").key("gone").uploadId(id2));
        assertEquals(404, status(() -> s3.abortMultipartUpload(b -> b.bucket("mpu").key("gone").uploadId(id2))));
        assertEquals(404, status(() -> s3.headObject(b -> b.bucket("mpu").key("gone"))));
        // A too-small first part and an invalid part number.
        String id3 = s3.createMultipartUpload(b -> b.bucket("mpu").key("small")).uploadId();
        String s1 = s3.uploadPart(b -> b.bucket("mpu").key("small").uploadId(id3).partNumber(1),
                RequestBody.fromString("tiny")).eTag();
        String s2 = s3.uploadPart(b -> b.bucket("mpu").key("small").uploadId(id3).partNumber(2),
                RequestBody.fromString("tiny")).eTag();
        assertEquals("EntityTooSmall", error(() -> s3.completeMultipartUpload(b -> b.bucket("mpu").key("small")
                .uploadId(id3).multipartUpload(m -> m.parts(CompletedPart.builder().partNumber(1).eTag(s1).build(),
                        CompletedPart.builder().partNumber(2).eTag(s2).build())))).awsErrorDetails().errorCode());
        assertEquals("InvalidArgument", error(() -> s3.uploadPart(b -> b.bucket("mpu").key("small").uploadId(id3)
                .partNumber(10001), RequestBody.fromString("x"))).awsErrorDetails().errorCode());
        // Upload part copy: a whole object (a clone) as part 1, then completed alone.
        s3.uploadPartCopy(b -> b.destinationBucket("mpu").destinationKey("small").uploadId(id3).partNumber(1)
                .sourceBucket("mpu").sourceKey("ckpt/shard-1.safetensors"));
        s3.completeMultipartUpload(b -> b.bucket("mpu").key("small").uploadId(id3).multipartUpload(m -> m.parts(
                CompletedPart.builder().partNumber(1).build())));
        assertArrayEquals(want, s3.getObjectAsBytes(b -> b.bucket("mpu").key("small")).asByteArray());
    }

    @Test
    void copyObjectIsAClone() throws Exception {
        s3.createBucket(b -> b.bucket("copies"));
        byte[] data = random(1 << 20, 5);
        s3.putObject(b -> b.bucket("copies").key("src").contentType("text/x-a").metadata(Map.of("a", "1")),
                RequestBody.fromBytes(data));
        var r = s3.copyObject(b -> b.sourceBucket("copies").sourceKey("src").destinationBucket("copies")
                .destinationKey("dst/copy"));
        assertEquals("\"" + md5(data) + "\"", r.copyObjectResult().eTag());
        HeadObjectResponse h = s3.headObject(b -> b.bucket("copies").key("dst/copy"));
        assertEquals("text/x-a", h.contentType());
        assertEquals(Map.of("a", "1"), h.metadata());
        s3.copyObject(b -> b.sourceBucket("copies").sourceKey("src").destinationBucket("copies")
                .destinationKey("src").metadataDirective("REPLACE").metadata(Map.of("b", "2")));
        assertEquals(Map.of("b", "2"), s3.headObject(b -> b.bucket("copies").key("src")).metadata());
        assertArrayEquals(data, s3.getObjectAsBytes(b -> b.bucket("copies").key("dst/copy")).asByteArray());
        assertEquals("InvalidRequest", error(() -> s3.copyObject(b -> b.sourceBucket("copies").sourceKey("src")
                .destinationBucket("copies").destinationKey("src"))).awsErrorDetails().errorCode());
    }

    /** Sends {@code method target} to the gateway at {@code port} with {@code host} as the Host header. */
    static String[] rawRequest(int port, String method, String target, String host, byte[] body) throws Exception {
        try (Socket sock = new Socket("127.0.0.1", port)) {
            OutputStream out = sock.getOutputStream();
            String head = method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n"
                    + (body == null ? "" : "Content-Length: " + body.length + "\r\n") + "\r\n";
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            if (body != null) {
                out.write(body);
            }
            out.flush();
            String response = new String(sock.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int end = response.indexOf("\r\n\r\n");
            return new String[] {response.substring(0, response.indexOf("\r\n")), response.substring(end + 4)};
        }
    }

    @Test
    void virtualHostedStyleRequestsNameTheBucketInTheHost() throws Exception {
        s3.createBucket(b -> b.bucket("vhosted"));
        s3.putObject(b -> b.bucket("vhosted").key("dir/x.bin"), RequestBody.fromString("by path"));
        try (Endpoint vh = new S3Frontend(Map.of(Credentials.ENV_ACCESS, AK, Credentials.ENV_SECRET, SK))
                .start(volume, Map.of("listen", "127.0.0.1:0", "domain", "s3.test"))) {
            int port = URI.create(vh.address()).getPort();
            // URLs signed by the SDK in virtual-hosted style (the bucket in the host name, which only this
            // test resolves: the request goes to 127.0.0.1 with that Host header).
            try (S3Presigner p = S3Presigner.builder().endpointOverride(URI.create("http://s3.test:" + port))
                    .region(Region.US_EAST_1)
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(AK, SK)))
                    .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(false).build()).build()) {
                URL get = p.presignGetObject(b -> b.signatureDuration(Duration.ofMinutes(5))
                        .getObjectRequest(g -> g.bucket("vhosted").key("dir/x.bin"))).url();
                assertEquals("vhosted.s3.test", get.getHost());
                String[] r = rawRequest(port, "GET", get.getFile(), get.getHost() + ":" + port, null);
                assertTrue(r[0].contains(" 200 "), r[0] + "\n" + r[1]);
                assertEquals("by path", r[1]);

                URL put = p.presignPutObject(b -> b.signatureDuration(Duration.ofMinutes(5))
                        .putObjectRequest(g -> g.bucket("vhosted").key("dir/up.bin"))).url();
                r = rawRequest(port, "PUT", put.getFile(), put.getHost() + ":" + port,
                        "by host".getBytes(StandardCharsets.UTF_8));
                assertTrue(r[0].contains(" 200 "), r[0] + "\n" + r[1]);
                assertEquals("by host", s3.getObjectAsBytes(b -> b.bucket("vhosted").key("dir/up.bin")).asUtf8String());

                URL list = p.presignGetObject(b -> b.signatureDuration(Duration.ofMinutes(5))
                        .getObjectRequest(g -> g.bucket("vhosted").key("dir/nothing"))).url();
                r = rawRequest(port, "GET", list.getFile(), list.getHost() + ":" + port, null);
                assertTrue(r[0].contains(" 404 ") && r[1].contains("<Code>NoSuchKey</Code>"), r[0] + "\n" + r[1]);
            }
            // The same gateway still takes path-style requests (Host is the bare address).
            String[] r = rawRequest(port, "GET", "/vhosted/dir/x.bin", "127.0.0.1:" + port, null);
            assertTrue(r[0].contains(" 403 ") && r[1].contains("<Code>AccessDenied</Code>"), "unsigned: " + r[0]);
        }
    }

    @Test
    void aBadDomainIsRefused() {
        io.hangar.fs.FsException e = assertThrows(io.hangar.fs.FsException.class,
                () -> GatewaySpec.parse(Map.of("domain", "not a name")));
        assertEquals(io.hangar.fs.Errno.EINVAL, e.errno());
    }

    @Test
    void presignedUrlsAndTheirExpiry() throws Exception {
        s3.createBucket(b -> b.bucket("presign"));
        s3.putObject(b -> b.bucket("presign").key("p/x.bin"), RequestBody.fromString("presigned"));
        try (S3Presigner p = S3Presigner.builder().endpointOverride(URI.create(url)).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(AK, SK)))
                .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build()).build()) {
            URL get = p.presignGetObject(b -> b.signatureDuration(Duration.ofMinutes(5))
                    .getObjectRequest(g -> g.bucket("presign").key("p/x.bin"))).url();
            HttpURLConnection c = (HttpURLConnection) get.openConnection();
            assertEquals(200, c.getResponseCode());
            assertEquals("presigned", new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            URL put = p.presignPutObject(b -> b.signatureDuration(Duration.ofMinutes(5))
                    .putObjectRequest(g -> g.bucket("presign").key("p/up.bin"))).url();
            c = (HttpURLConnection) put.openConnection();
            c.setRequestMethod("PUT");
            c.setDoOutput(true);
            c.getOutputStream().write("uploaded".getBytes(StandardCharsets.UTF_8));
            assertEquals(200, c.getResponseCode());
            assertEquals("uploaded", s3.getObjectAsBytes(b -> b.bucket("presign").key("p/up.bin")).asUtf8String());
            // A tampered URL.
            c = (HttpURLConnection) new URL(get.toString().replace("p/x.bin", "p/up.bin")).openConnection();
            assertEquals(403, c.getResponseCode());
            assertTrue(new String(c.getErrorStream().readAllBytes(), StandardCharsets.UTF_8)
                    .contains("<Code>SignatureDoesNotMatch</Code>"));
            URL shortLived = p.presignGetObject(b -> b.signatureDuration(Duration.ofSeconds(1))
                    .getObjectRequest(g -> g.bucket("presign").key("p/x.bin"))).url();
            Thread.sleep(2100);
            c = (HttpURLConnection) shortLived.openConnection();
            assertEquals(403, c.getResponseCode());
            String body = new String(c.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(body.contains("<Code>AccessDenied</Code>") && body.contains("expired"), body);
        }
    }

    @Test
    void credentialsAndPermissions() {
        s3.createBucket(b -> b.bucket("one"));
        s3.createBucket(b -> b.bucket("two"));
        try (S3Client wrong = client(AK, "not-the-secret"); S3Client unknown = client("AKNOBODY", "x");
                S3Client reader = client("AKREAD", "read-secret"); S3Client one = client("AKONE", "one-secret")) {
            S3Exception e = error(() -> wrong.listBuckets());
            assertEquals(403, e.statusCode());
            assertEquals("SignatureDoesNotMatch", e.awsErrorDetails().errorCode());
            e = error(() -> unknown.listBuckets());
            assertEquals(403, e.statusCode());
            assertEquals("InvalidAccessKeyId", e.awsErrorDetails().errorCode());
            reader.listObjectsV2(b -> b.bucket("one"));
            e = error(() -> reader.putObject(b -> b.bucket("one").key("k"), RequestBody.fromString("x")));
            assertEquals(403, e.statusCode());
            assertEquals("AccessDenied", e.awsErrorDetails().errorCode());
            one.putObject(b -> b.bucket("one").key("k"), RequestBody.fromString("x"));
            assertEquals("AccessDenied", error(() -> one.putObject(b -> b.bucket("two").key("k"),
                    RequestBody.fromString("x"))).awsErrorDetails().errorCode());
            assertEquals("AccessDenied", error(() -> one.listObjectsV2(b -> b.bucket("two")))
                    .awsErrorDetails().errorCode());
            assertEquals(List.of("one"), one.listBuckets().buckets().stream().map(b -> b.name()).toList());
        }
    }

    @Test
    void badDigestAndNotImplemented() {
        s3.createBucket(b -> b.bucket("digest"));
        S3Exception e = error(() -> s3.putObject(b -> b.bucket("digest").key("d")
                .contentMD5("1B2M2Y8AsgTpgAmY7PhCfg=="), RequestBody.fromString("not empty")));
        assertEquals(400, e.statusCode());
        assertEquals("BadDigest", e.awsErrorDetails().errorCode());
        assertEquals(404, status(() -> s3.headObject(b -> b.bucket("digest").key("d"))));
        e = error(() -> s3.getBucketAcl(b -> b.bucket("digest")));
        assertEquals(501, e.statusCode());
        assertEquals("NotImplemented", e.awsErrorDetails().errorCode());
        assertEquals("NotImplemented", error(() -> s3.getBucketVersioning(b -> b.bucket("digest")))
                .awsErrorDetails().errorCode());
        assertEquals("NotImplemented", error(() -> s3.getBucketLifecycleConfiguration(b -> b.bucket("digest")))
                .awsErrorDetails().errorCode());
        assertEquals("NotImplemented", error(() -> s3.putObject(b -> b.bucket("digest").key("sse")
                .serverSideEncryption("AES256"), RequestBody.fromString("x"))).awsErrorDetails().errorCode());
        assertEquals("NotImplemented", error(() -> s3.getObjectLockConfiguration(b -> b.bucket("digest")))
                .awsErrorDetails().errorCode());
    }

    // ---- hand-made requests

    record Raw(int status, String body, Map<String, String> headers) {
    }

    /** A request signed with SigV4 (UNSIGNED-PAYLOAD) at {@code when}, sent over a plain socket. */
    static Raw raw(String method, String rawPath, String rawQuery, byte[] body, Instant when, String secret)
            throws Exception {
        URI u = URI.create(url);
        String host = u.getHost() + ":" + u.getPort();
        String amzDate = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").format(LocalDateTime.ofInstant(when,
                ZoneOffset.UTC));
        String scope = amzDate.substring(0, 8) + "/us-east-1/s3/aws4_request";
        TreeMap<String, String> h = new TreeMap<>();
        h.put("host", host);
        h.put("x-amz-date", amzDate);
        h.put("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
        String signed = String.join(";", h.keySet());
        SigV4.Request r = new SigV4.Request(method, rawPath, S3Handler.parseQuery(rawQuery),
                n -> h.containsKey(n) ? List.of(h.get(n)) : null);
        String canonical = SigV4.canonicalRequest(r, signed, "UNSIGNED-PAYLOAD", false);
        byte[] k = SigV4.hmac(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), amzDate.substring(0, 8));
        k = SigV4.hmac(k, "us-east-1");
        k = SigV4.hmac(k, "s3");
        k = SigV4.hmac(k, "aws4_request");
        String sig = SigV4.sign(k, amzDate, scope, canonical);
        StringBuilder req = new StringBuilder();
        req.append(method).append(' ').append(rawPath).append(rawQuery.isEmpty() ? "" : "?" + rawQuery)
                .append(" HTTP/1.1\r\n");
        h.forEach((n, v) -> req.append(n).append(": ").append(v).append("\r\n"));
        req.append("authorization: AWS4-HMAC-SHA256 Credential=").append(AK).append('/').append(scope)
                .append(", SignedHeaders=").append(signed).append(", Signature=").append(sig).append("\r\n");
        req.append("content-length: ").append(body.length).append("\r\nconnection: close\r\n\r\n");
        try (Socket s = new Socket(u.getHost(), u.getPort())) {
            OutputStream out = s.getOutputStream();
            out.write(req.toString().getBytes(StandardCharsets.UTF_8));
            out.write(body);
            out.flush();
            return parse(s.getInputStream());
        }
    }

    static Raw parse(InputStream in) throws IOException {
        String all = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        int sp = all.indexOf(' ');
        int status = Integer.parseInt(all.substring(sp + 1, sp + 4));
        int end = all.indexOf("\r\n\r\n");
        Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (String line : all.substring(all.indexOf("\r\n") + 2, end).split("\r\n")) {
            int c = line.indexOf(':');
            headers.put(line.substring(0, c).trim(), line.substring(c + 1).trim());
        }
        return new Raw(status, all.substring(end + 4), headers);
    }

    @Test
    void keysThatWouldEscapeTheBucketAreRefused() throws Exception {
        s3.createBucket(b -> b.bucket("escape"));
        for (String key : List.of("a/../b", "..", "./x", "a//b", "a/%2E%2E/b")) {
            Raw r = raw("PUT", "/escape/" + key, "", "x".getBytes(StandardCharsets.UTF_8), Instant.now(), SK);
            assertEquals(400, r.status(), key + ": " + r.body());
            assertTrue(r.body().contains("<Code>InvalidArgument</Code>"), r.body());
        }
        assertEquals(0, s3.listObjectsV2(b -> b.bucket("escape")).keyCount());
        Raw ok = raw("PUT", "/escape/fine%20name", "", "x".getBytes(StandardCharsets.UTF_8), Instant.now(), SK);
        assertEquals(200, ok.status(), ok.body());
        assertEquals("x", s3.getObjectAsBytes(b -> b.bucket("escape").key("fine name")).asUtf8String());
    }

    @Test
    void clockSkewIsRefused() throws Exception {
        Raw r = raw("GET", "/", "", new byte[0], Instant.now().minusSeconds(3600), SK);
        assertEquals(403, r.status());
        assertTrue(r.body().contains("<Code>RequestTimeTooSkewed</Code>"), r.body());
        assertEquals(200, raw("GET", "/", "", new byte[0], Instant.now(), SK).status());
    }

    @Test
    void aPutCutOffMidwayLeavesNothing() throws Exception {
        s3.createBucket(b -> b.bucket("cut"));
        cutPut("/cut/half", 2 << 20);
        assertTmpEmptiesAndNoObject("cut", "half");
    }

    @Test
    void aPutWhoseClientGoesAwayBeforeItsBodyLeavesNothing() throws Exception {
        // The connection closes while the gateway is still making the temporary file, before it reads a byte.
        s3.createBucket(b -> b.bucket("gone"));
        for (int i = 0; i < 20; i++) {
            cutPut("/gone/k" + i, 0);
        }
        for (int i = 0; i < 20; i++) {
            assertTmpEmptiesAndNoObject("gone", "k" + i);
        }
    }

    /** Sends a signed PUT of 4 MiB whose body stops after {@code sent} bytes, then closes the connection. */
    private void cutPut(String path, int sent) throws Exception {
        openPut(url, path, sent).close();
    }

    /** Sends a signed PUT of 4 MiB whose body stops after {@code sent} bytes; the connection stays open. */
    private Socket openPut(String base, String path, int sent) throws Exception {
        URI u = URI.create(base);
        String amzDate = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").format(LocalDateTime.ofInstant(
                Instant.now(), ZoneOffset.UTC));
        TreeMap<String, String> h = new TreeMap<>();
        h.put("host", u.getHost() + ":" + u.getPort());
        h.put("x-amz-date", amzDate);
        h.put("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
        String signed = String.join(";", h.keySet());
        SigV4.Request r = new SigV4.Request("PUT", path, List.of(), n -> h.containsKey(n) ? List.of(h.get(n)) : null);
        String scope = amzDate.substring(0, 8) + "/us-east-1/s3/aws4_request";
        byte[] k = SigV4.hmac(("AWS4" + SK).getBytes(StandardCharsets.UTF_8), amzDate.substring(0, 8));
        k = SigV4.hmac(SigV4.hmac(SigV4.hmac(k, "us-east-1"), "s3"), "aws4_request");
        String sig = SigV4.sign(k, amzDate, scope, SigV4.canonicalRequest(r, signed, "UNSIGNED-PAYLOAD", false));
        StringBuilder req = new StringBuilder("PUT " + path + " HTTP/1.1\r\n");
        h.forEach((n, v) -> req.append(n).append(": ").append(v).append("\r\n"));
        req.append("authorization: AWS4-HMAC-SHA256 Credential=" + AK + "/" + scope + ", SignedHeaders=" + signed
                + ", Signature=" + sig + "\r\ncontent-length: 4194304\r\n\r\n");
        Socket s = new Socket(u.getHost(), u.getPort());
        s.getOutputStream().write(req.toString().getBytes(StandardCharsets.UTF_8));
        if (sent > 0) {
            s.getOutputStream().write(random(sent, 6));
        }
        s.getOutputStream().flush();
        return s;
    }

    private void assertTmpEmptiesAndNoObject(String bucket, String key) throws Exception {
        // The temporary file goes once the gateway has seen the connection close (or at once, if it was closed).
        Entry tmp = volume.resolve("/" + Keys.STATE_DIR + "/tmp");
        for (int i = 0; i < 100 && !volume.readdir(tmp.inode(), null, 10, false).isEmpty(); i++) {
            Thread.sleep(100);
        }
        assertEquals(List.of(), volume.readdir(tmp.inode(), null, 10, false));
        assertEquals(404, status(() -> s3.headObject(b -> b.bucket(bucket).key(key))));
        // What the PUT held of the gateway's buffer is given back (what arrived and was never written too).
        Budget budget = ((S3Gateway) gateway).budget();
        for (int i = 0; i < 100 && budget.used() != 0; i++) {
            Thread.sleep(50);
        }
        assertEquals(0, budget.used());
    }

    @Test
    void getsOfClientsThatDoNotReadHoldNoMoreThanTheGatewaysBuffer() throws Exception {
        s3.createBucket(b -> b.bucket("slow"));
        byte[] data = random(24 << 20, 21);
        s3.putObject(b -> b.bucket("slow").key("big"), RequestBody.fromBytes(data));
        try (Endpoint small = new S3Frontend(Map.of(Credentials.ENV_ACCESS, AK, Credentials.ENV_SECRET, SK))
                .start(volume, Map.of("listen", "127.0.0.1:0", "bufferMb", "4"));
                S3Presigner p = S3Presigner.builder().endpointOverride(URI.create(small.address()))
                        .region(Region.US_EAST_1)
                        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(AK, SK)))
                        .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build())
                        .build()) {
            Budget budget = ((S3Gateway) small).budget();
            URI u = URI.create(small.address());
            URL get = p.presignGetObject(b -> b.signatureDuration(Duration.ofMinutes(5))
                    .getObjectRequest(g -> g.bucket("slow").key("big"))).url();
            // Six GETs whose clients read nothing: the kernel's socket buffers fill, then what the gateway
            // reads ahead for them waits in memory, within its 4 MiB, the other GETs waiting to read.
            List<Socket> readers = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < 6; i++) {
                    Socket s = new Socket();
                    s.setReceiveBufferSize(16 << 10);
                    s.connect(new java.net.InetSocketAddress(u.getHost(), u.getPort()));
                    s.getOutputStream().write(("GET " + get.getFile() + " HTTP/1.1\r\nHost: " + u.getHost() + ":"
                            + u.getPort() + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                    readers.add(s);
                }
                for (int i = 0; i < 200 && budget.used() < budget.limit() / 2; i++) {
                    Thread.sleep(50);
                }
                assertTrue(budget.used() >= budget.limit() / 2, "the stalled GETs' bytes are counted: "
                        + budget.used());
                assertTrue(budget.peak() <= budget.limit(), "peak " + budget.peak() + " > " + budget.limit());
                // All read at once: each gets the whole object, and the buffer is given back.
                List<java.util.concurrent.Future<byte[]>> bodies = new java.util.ArrayList<>();
                java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(6);
                try {
                    for (Socket s : readers) {
                        bodies.add(pool.submit(() -> s.getInputStream().readAllBytes()));
                    }
                    for (java.util.concurrent.Future<byte[]> f : bodies) {
                        String response = new String(f.get(), StandardCharsets.ISO_8859_1);
                        int end = response.indexOf("\r\n\r\n");
                        assertTrue(response.startsWith("HTTP/1.1 200"), response.substring(0, 40));
                        assertArrayEquals(data, response.substring(end + 4).getBytes(StandardCharsets.ISO_8859_1));
                    }
                } finally {
                    pool.shutdownNow();
                }
            } finally {
                for (Socket s : readers) {
                    s.close();
                }
            }
            assertTrue(budget.peak() <= budget.limit(), "peak " + budget.peak() + " > " + budget.limit());
            for (int i = 0; i < 100 && budget.used() != 0; i++) {
                Thread.sleep(50);
            }
            assertEquals(0, budget.used());
        }
    }

    @Test
    void connectionsPastTheLimitAreAnsweredSlowDownAndClosed() throws Exception {
        try (Endpoint two = new S3Frontend(Map.of(Credentials.ENV_ACCESS, AK, Credentials.ENV_SECRET, SK))
                .start(volume, Map.of("listen", "127.0.0.1:0", "maxConnections", "2"))) {
            int port = URI.create(two.address()).getPort();
            Connections connections = ((S3Gateway) two).connections();
            s3.createBucket(b -> b.bucket("conns"));
            // Two PUTs waiting for their bodies take both places (a connection counts from its first request).
            Socket first = openPut(two.address(), "/conns/a", 0);
            try (Socket second = openPut(two.address(), "/conns/b", 0)) {
                for (int i = 0; i < 100 && connections.open() < 2; i++) {
                    Thread.sleep(50);
                }
                assertEquals(2, connections.open());
                String[] r = rawRequest(port, "GET", "/", "127.0.0.1:" + port, null);
                assertTrue(r[0].startsWith("HTTP/1.1 503"), r[0]);
                assertTrue(r[1].contains("<Code>SlowDown</Code>"), r[1]);
                first.close();
                // Once one closes, a new connection is served again.
                for (int i = 0; i < 100 && r[0].startsWith("HTTP/1.1 503"); i++) {
                    Thread.sleep(50);
                    r = rawRequest(port, "GET", "/", "127.0.0.1:" + port, null);
                }
                assertTrue(r[0].startsWith("HTTP/1.1 403"), r[0] + "\n" + r[1]);
            } finally {
                first.close();
            }
            assertTmpEmptiesAndNoObject("conns", "a");
            assertTmpEmptiesAndNoObject("conns", "b");
            assertEquals(0, ((S3Gateway) two).budget().used());
        }
    }

    @Test
    void streamingChunkedUploadsWithTrailers() throws Exception {
        // The SDK sends aws-chunked bodies with a CRC32 trailer (signed chunks over plain http).
        s3.createBucket(b -> b.bucket("chunked"));
        byte[] data = random(300_000, 7);
        s3.putObject(b -> b.bucket("chunked").key("c"), RequestBody.fromInputStream(new ByteArrayInputStream(data),
                data.length));
        assertArrayEquals(data, s3.getObjectAsBytes(b -> b.bucket("chunked").key("c")).asByteArray());
        assertEquals("\"" + md5(data) + "\"", s3.headObject(b -> b.bucket("chunked").key("c")).eTag());
    }

    @Test
    void twoGatewaysShareUploadsAndCompleteKeepsTheConnectionAlive() throws Exception {
        // A second gateway on the same volume answers Complete with an early 200 and whitespace after 1 ms.
        Endpoint second = new S3Frontend(Map.of(Credentials.ENV_ACCESS, AK, Credentials.ENV_SECRET, SK))
                .start(volume, Map.of("listen", "127.0.0.1:0", "keepAliveMs", "1"));
        String first = url;
        try (S3Client other = S3Client.builder().endpointOverride(URI.create(second.address()))
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(AK, SK)))
                .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build())
                .httpClient(UrlConnectionHttpClient.create()).build()) {
            s3.createBucket(b -> b.bucket("shared"));
            String id = s3.createMultipartUpload(b -> b.bucket("shared").key("k")).uploadId();
            byte[] p1 = random(5 << 20, 11);
            byte[] p2 = random(1000, 12);
            String e1 = s3.uploadPart(b -> b.bucket("shared").key("k").uploadId(id).partNumber(1),
                    RequestBody.fromBytes(p1)).eTag();
            String e2 = other.uploadPart(b -> b.bucket("shared").key("k").uploadId(id).partNumber(2),
                    RequestBody.fromBytes(p2)).eTag();
            assertEquals(2, other.listParts(b -> b.bucket("shared").key("k").uploadId(id)).parts().size());
            // A failing Complete after the 200 went out: the SDK finds the Error in the body.
            S3Exception e = error(() -> other.completeMultipartUpload(b -> b.bucket("shared").key("k").uploadId(id)
                    .multipartUpload(m -> m.parts(CompletedPart.builder().partNumber(1).eTag("\"0\"").build()))));
            assertEquals("InvalidPart", e.awsErrorDetails().errorCode());
            String etag = other.completeMultipartUpload(b -> b.bucket("shared").key("k").uploadId(id)
                    .multipartUpload(m -> m.parts(CompletedPart.builder().partNumber(1).eTag(e1).build(),
                            CompletedPart.builder().partNumber(2).eTag(e2).build()))).eTag();
            assertTrue(etag.endsWith("-2\""), etag);
            byte[] got = s3.getObjectAsBytes(b -> b.bucket("shared").key("k")).asByteArray();
            assertEquals(p1.length + p2.length, got.length);
            assertEquals(etag, s3.headObject(b -> b.bucket("shared").key("k")).eTag());
            assertEquals(first, url);
        } finally {
            second.close();
        }
    }

    @Test
    void hugeHeadersGetAnS3Error() throws Exception {
        URI u = URI.create(url);
        try (Socket s = new Socket(u.getHost(), u.getPort())) {
            String big = "x".repeat(70 * 1024);
            s.getOutputStream().write(("GET / HTTP/1.1\r\nhost: h\r\nx-big: " + big + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            Raw r = parse(s.getInputStream());
            assertEquals(400, r.status());
            assertTrue(r.body().contains("<Code>RequestHeaderSectionTooLarge</Code>"), r.body());
        }
    }

    /**
     * A DELETE of the last object under a prefix removes the prefix's directories. When that happens between
     * a PUT's lookup of them and its rename into place (a DELETE in another gateway, or at the same time in
     * this one), the PUT creates them again and succeeds, as S3 has it (it once answered NoSuchKey); so does
     * a copy.
     */
    @Test
    void aPutOrCopyIntoAPrefixADeleteJustRemovedSucceeds() throws Exception {
        s3.createBucket(b -> b.bucket("pruned"));
        s3.putObject(b -> b.bucket("pruned").key("pre/fix/other"), RequestBody.fromString("other"));
        s3.putObject(b -> b.bucket("pruned").key("pre/two/other"), RequestBody.fromString("other"));
        java.util.concurrent.atomic.AtomicReference<String> deleteAtRename =
                new java.util.concurrent.atomic.AtomicReference<>("pre/fix/other");
        java.util.concurrent.atomic.AtomicInteger renames = new java.util.concurrent.atomic.AtomicInteger();
        // The store's volume: just before its first rename, the last object under the key's prefix is deleted
        // through the gateway (whose own store prunes the emptied directories).
        io.hangar.vfs.Volume racing = (io.hangar.vfs.Volume) java.lang.reflect.Proxy.newProxyInstance(
                io.hangar.vfs.Volume.class.getClassLoader(), new Class<?>[] {io.hangar.vfs.Volume.class},
                (proxy, m, args) -> {
                    if (m.getName().equals("rename")) {
                        renames.incrementAndGet();
                        String victim = deleteAtRename.getAndSet(null);
                        if (victim != null) {
                            s3.deleteObject(b -> b.bucket("pruned").key(victim));
                        }
                    }
                    try {
                        return m.invoke(volume, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        ObjectStore store = new ObjectStore(racing, false);
        long bucket = store.bucket("pruned");
        byte[] body = "the object".getBytes(StandardCharsets.UTF_8);
        String etag = HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(body));
        ObjectStore.Temp t = store.temp();
        t.handle().write(0, body, 0, body.length);
        store.commit(bucket, "pre/fix/obj", t, etag, Map.of());
        assertEquals(2, renames.get(), "the first rename found pre/fix/ gone, the second made it");
        assertArrayEquals(body, s3.getObjectAsBytes(b -> b.bucket("pruned").key("pre/fix/obj")).asByteArray());
        assertEquals('"' + etag + '"', s3.headObject(b -> b.bucket("pruned").key("pre/fix/obj")).eTag());

        deleteAtRename.set("pre/two/other");
        renames.set(0);
        store.copy(bucket, "pre/fix/obj", bucket, "pre/two/copy", null);
        assertEquals(2, renames.get(), "the copy's first rename found pre/two/ gone");
        assertArrayEquals(body, s3.getObjectAsBytes(b -> b.bucket("pruned").key("pre/two/copy")).asByteArray());
        assertEquals(List.of(), volume.readdir(store.tmpDir, null, 10, false), "no temporary file left");
    }

    @Test
    void abandonedUploadsAndLeftoversAreSwept() throws Exception {
        s3.createBucket(b -> b.bucket("sweep"));
        String id = s3.createMultipartUpload(b -> b.bucket("sweep").key("old")).uploadId();
        s3.uploadPart(b -> b.bucket("sweep").key("old").uploadId(id).partNumber(1), RequestBody.fromString("x"));
        ObjectStore store = new ObjectStore(volume, false);
        Multipart mp = new Multipart(store);
        // Younger than the age: kept.
        assertEquals(0, mp.sweep(java.util.concurrent.TimeUnit.HOURS.toNanos(1), java.util.concurrent.TimeUnit.HOURS
                .toNanos(1)));
        // Everything older than "now" goes: the upload (and its part's data) and anything left in tmp/.
        Thread.sleep(5);
        volume.create(io.hangar.fs.Caller.ROOT, store.tmpDir, "put-leftover", 0644,
                io.hangar.fs.OpenFlags.RDWR | io.hangar.fs.OpenFlags.CREAT).close();
        Thread.sleep(5);
        assertTrue(mp.sweep(1, 1) >= 2);
        assertEquals("NoSuchUpload", error(() -> s3.listParts(b -> b.bucket("sweep").key("old").uploadId(id)))
                .awsErrorDetails().errorCode());
        assertEquals(List.of(), volume.readdir(store.tmpDir, null, 10, false));
    }
}
