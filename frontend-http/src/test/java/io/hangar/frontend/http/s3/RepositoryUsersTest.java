package io.hangar.frontend.http.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.spi.frontend.Endpoint;
import io.hangar.spi.repo.RepoRecord;
import io.hangar.spi.repo.RepositoryStore;
import io.hangar.spi.repo.RepositoryStoreProvider;
import io.hangar.vfs.standalone.OpenVolume;
import io.hangar.vfs.standalone.Volumes;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;
import software.amazon.awssdk.services.s3.presigner.model.PresignedPutObjectRequest;

/**
 * The gateway with repository users' S3 keys, on a real SQLite + file-store volume with its real repository
 * store: two users of two teams, driven by the AWS SDK. Teams, roles, models and versions are made through the
 * REST API of the gateway, S3 keys too ({@code /api/v1/users/{user}/s3-keys}).
 */
class RepositoryUsersTest {
    static final String OP_AK = "AKOPERATOR";
    static final String OP_SK = "operator-secret";
    @TempDir
    static Path dir;
    static OpenVolume volume;
    static RepositoryStore store;
    static Endpoint gateway;
    static String api;
    static String admin;
    static String keysApi;
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static JsonObject aliceKey;
    static JsonObject carolKey;
    static S3Client alice;
    static S3Client carol;
    static S3Client operator;

    @BeforeAll
    static void start() throws Exception {
        String meta = "sqlite://" + dir.resolve("meta.db");
        Volumes.format(meta, "gw", "file://" + dir.resolve("chunks"), Map.of());
        volume = Volumes.open(meta, Map.of());
        store = ServiceLoader.load(RepositoryStoreProvider.class).stream().map(ServiceLoader.Provider::get)
                .filter(p -> p.schemes().contains("sqlite")).findFirst().orElseThrow().open(URI.create(meta));
        Path creds = dir.resolve("s3.properties");
        Files.writeString(creds, "key." + OP_AK + ".secret = " + OP_SK + "\nkey." + OP_AK + ".write = *\n");
        Path tokenFile = dir.resolve("etc/api-token");
        gateway = new S3Frontend(Map.of()).start(volume, Map.of("listen", "127.0.0.1:0", "credentials",
                creds.toString(), GatewaySpec.API_TOKEN_FILE, tokenFile.toString()));
        ((S3Gateway) gateway).repository(store);
        api = gateway.address() + "/api/v1";
        for (int i = 0; i < 600 && !Files.exists(tokenFile); i++) {
            Thread.sleep(50);
        }
        admin = Files.readString(tokenFile).trim();
        keysApi = api;
        String aliceToken = user("alice");
        String carolToken = user("carol");
        call(admin, "POST", "/teams", new JsonObject().put("name", "vision"), 201);
        call(admin, "POST", "/teams", new JsonObject().put("name", "audio"), 201);
        call(admin, "PUT", "/teams/vision/members/alice", new JsonObject().put("role", "writer"), 200);
        call(admin, "PUT", "/teams/audio/members/carol", new JsonObject().put("role", "writer"), 200);
        call(admin, "POST", "/teams/vision/models", new JsonObject().put("name", "llama"), 201);
        call(admin, "POST", "/teams/audio/models", new JsonObject().put("name", "whisper"), 201);
        call(admin, "POST", "/teams/audio/models", new JsonObject().put("name", "private"), 201);
        call(aliceToken, "POST", "/teams/vision/models/llama/versions", new JsonObject(), 201);
        call(carolToken, "POST", "/teams/audio/models/whisper/versions", new JsonObject(), 201);
        call(carolToken, "POST", "/teams/audio/models/private/versions", new JsonObject(), 201);

        // A user issues their own key; a site administrator anyone's; nobody someone else's.
        aliceKey = keys(aliceToken, "POST", "/users/alice/s3-keys", 201);
        carolKey = keys(admin, "POST", "/users/carol/s3-keys", 201);
        keys(aliceToken, "POST", "/users/carol/s3-keys", 403);
        assertTrue(aliceKey.getString("accessKey").matches("AKHG[A-Z0-9]{16}"), aliceKey.getString("accessKey"));
        assertEquals(40, aliceKey.getString("secretKey").length());
        alice = client(aliceKey);
        carol = client(carolKey);
        operator = client(new JsonObject().put("accessKey", OP_AK).put("secretKey", OP_SK));
    }

    static S3Client client(JsonObject key) {
        return S3Client.builder().endpointOverride(URI.create(gateway.address())).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        key.getString("accessKey"), key.getString("secretKey"))))
                .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build())
                .httpClient(software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient.create()).build();
    }

    @AfterAll
    static void stop() throws Exception {
        for (S3Client c : new S3Client[] {alice, carol, operator}) {
            if (c != null) {
                c.close();
            }
        }
        if (gateway != null) {
            gateway.close();
        }
        if (store != null) {
            store.close();
        }
        if (volume != null) {
            volume.close();
        }
    }

    static String user(String name) throws Exception {
        call(admin, "POST", "/users", new JsonObject().put("name", name), 201);
        return new JsonObject(call(admin, "POST", "/users/" + name + "/tokens", new JsonObject(), 201))
                .getString("token");
    }

    static String call(String token, String method, String path, JsonObject body, int expected) throws Exception {
        return send(api + path, token, method, body, expected);
    }

    static JsonObject keys(String token, String method, String path, int expected) throws Exception {
        String out = send(keysApi + path, token, method, method.equals("POST") ? new JsonObject() : null, expected);
        return out.startsWith("[") ? new JsonObject().put("list", new JsonArray(out)) : new JsonObject(out);
    }

    static String send(String url, String token, String method, JsonObject body, int expected) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body.encode()));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(expected, r.statusCode(), method + " " + url + ": " + r.body());
        return r.body();
    }

    static void denied(Runnable r) {
        S3Exception e = assertThrows(S3Exception.class, r::run);
        assertEquals(403, e.statusCode(), e.getMessage());
        assertEquals("AccessDenied", e.awsErrorDetails().errorCode(), e.getMessage());
    }

    static Set<Path> blocks() throws Exception {
        try (java.util.stream.Stream<Path> s = Files.walk(dir.resolve("chunks"))) {
            return Set.copyOf(s.filter(Files::isRegularFile).toList());
        }
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new java.util.Random(seed).nextBytes(b);
        return b;
    }

    static byte[] md5(byte[] b) {
        try {
            return java.security.MessageDigest.getInstance("MD5").digest(b);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The audit entries about {@code user} with result denied. */
    static List<JsonObject> deniedEntries(String team, String user) throws Exception {
        JsonObject page = new JsonObject(call(admin, "GET", "/audit?team=" + team + "&user=" + user + "&limit=1000",
                null, 200));
        return page.getJsonArray("entries").stream().map(o -> (JsonObject) o)
                .filter(e -> "denied".equals(e.getString("result"))).toList();
    }

    @Test
    void eachTeamReadsAndWritesItsOwnBucketOnly() throws Exception {
        alice.putObject(b -> b.bucket("vision").key("llama/v1/notes.txt"), RequestBody.fromString("vision notes"));
        carol.putObject(b -> b.bucket("audio").key("whisper/v1/notes.txt"), RequestBody.fromString("audio notes"));
        assertEquals("vision notes", alice.getObjectAsBytes(b -> b.bucket("vision").key("llama/v1/notes.txt"))
                .asUtf8String());
        assertEquals("audio notes", carol.getObjectAsBytes(b -> b.bucket("audio").key("whisper/v1/notes.txt"))
                .asUtf8String());
        assertTrue(alice.listObjectsV2(b -> b.bucket("vision")).contents().stream()
                .anyMatch(o -> o.key().equals("llama/v1/notes.txt")));
        assertEquals(List.of("vision"), alice.listBuckets().buckets().stream().map(x -> x.name()).toList());
        assertEquals(List.of("audio"), carol.listBuckets().buckets().stream().map(x -> x.name()).toList());
        // Operator keys keep their own rules: this one sees every bucket.
        assertTrue(operator.listBuckets().buckets().stream().map(x -> x.name()).toList()
                .containsAll(List.of("audio", "vision")));

        int before = deniedEntries("audio", "alice").size();
        denied(() -> alice.listObjectsV2(b -> b.bucket("audio")));
        denied(() -> alice.listObjects(b -> b.bucket("audio")));
        denied(() -> alice.getObjectAsBytes(b -> b.bucket("audio").key("private/v1/notes.txt")));
        S3Exception head = assertThrows(S3Exception.class, () -> alice.headObject(b -> b.bucket("audio")
                .key("private/v1/x")));
        assertEquals(403, head.statusCode(), "a HEAD has no error body, only the status");
        denied(() -> alice.putObject(b -> b.bucket("audio").key("whisper/v1/evil.txt"), RequestBody.fromString("x")));
        denied(() -> alice.deleteObject(b -> b.bucket("audio").key("whisper/v1/notes.txt")));
        denied(() -> alice.copyObject(b -> b.sourceBucket("audio").sourceKey("private/v1/notes.txt")
                .destinationBucket("vision").destinationKey("llama/v1/stolen.txt")));
        denied(() -> alice.createBucket(b -> b.bucket("newteam")));
        denied(() -> carol.getObjectAsBytes(b -> b.bucket("vision").key("llama/v1/notes.txt")));
        List<JsonObject> audited = deniedEntries("audio", "alice");
        assertTrue(audited.size() >= before + 6, audited.toString());
        assertTrue(audited.stream().anyMatch(e -> e.getString("action").startsWith("S3 GET /audio")
                && "private".equals(e.getString("model"))), audited.toString());
        assertEquals("audio notes", carol.getObjectAsBytes(b -> b.bucket("audio").key("whisper/v1/notes.txt"))
                .asUtf8String(), "nothing changed");
    }

    @Test
    void aSharedModelIsReadableButNothingElse() throws Exception {
        carol.putObject(b -> b.bucket("audio").key("whisper/v1/shared.bin"), RequestBody.fromString("shared"));
        carol.putObject(b -> b.bucket("audio").key("private/v1/secret.bin"), RequestBody.fromString("secret"));
        call(admin, "PUT", "/teams/audio/models/whisper/shares/vision", null, 200);
        assertEquals("shared", alice.getObjectAsBytes(b -> b.bucket("audio").key("whisper/v1/shared.bin"))
                .asUtf8String());
        List<String> listed = alice.listObjectsV2(b -> b.bucket("audio").prefix("whisper/")).contents().stream()
                .map(S3Object::key).toList();
        assertTrue(listed.contains("whisper/v1/shared.bin"), listed.toString());
        denied(() -> alice.listObjectsV2(b -> b.bucket("audio")));
        denied(() -> alice.getObjectAsBytes(b -> b.bucket("audio").key("private/v1/secret.bin")));
        denied(() -> alice.putObject(b -> b.bucket("audio").key("whisper/v1/mine.bin"), RequestBody.fromString("x")));
    }

    @Test
    void aReleasedVersionRefusesPutsAndAReputIntoANewDraftStoresNoBlocks() throws Exception {
        String aliceToken = new JsonObject(call(admin, "POST", "/users/alice/tokens", new JsonObject(), 201))
                .getString("token");
        JsonObject v = new JsonObject(call(aliceToken, "POST", "/teams/vision/models/llama/versions",
                new JsonObject(), 201));
        int n = v.getInteger("number");
        byte[] weights = random(3 << 20, 7);
        String md5 = HexFormat.of().formatHex(md5(weights));
        String b64 = Base64.getEncoder().encodeToString(md5(weights));
        String etag = alice.putObject(b -> b.bucket("vision").key("llama/v" + n + "/weights.bin").contentMD5(b64),
                RequestBody.fromBytes(weights)).eTag();
        assertEquals("\"" + md5 + "\"", etag);
        call(aliceToken, "POST", "/teams/vision/models/llama/versions/" + n + "/submit", new JsonObject(), 201);
        // Frozen: the VFS refuses, the gateway answers AccessDenied and the refusal is audited.
        int deniedBefore = deniedEntries("vision", "alice").size();
        denied(() -> alice.putObject(b -> b.bucket("vision").key("llama/v" + n + "/weights.bin"),
                RequestBody.fromString("overwritten")));
        denied(() -> alice.deleteObject(b -> b.bucket("vision").key("llama/v" + n + "/weights.bin")));
        assertTrue(deniedEntries("vision", "alice").size() >= deniedBefore + 2);
        assertEquals(md5, HexFormat.of().formatHex(md5(alice.getObjectAsBytes(b -> b.bucket("vision")
                .key("llama/v" + n + "/weights.bin")).asByteArray())));

        // The unchanged re-push into a new draft: linked, not stored.
        int m = new JsonObject(call(aliceToken, "POST", "/teams/vision/models/llama/versions", new JsonObject(), 201))
                .getInteger("number");
        Set<Path> before = blocks();
        var put = alice.putObject(b -> b.bucket("vision").key("llama/v" + m + "/weights.bin").contentMD5(b64),
                RequestBody.fromBytes(weights));
        assertEquals("\"" + md5 + "\"", put.eTag());
        Set<Path> after = blocks();
        assertTrue(before.containsAll(after), "new block objects: " + after.stream().filter(p -> !before.contains(p))
                .toList());
        assertEquals(md5, HexFormat.of().formatHex(md5(alice.getObjectAsBytes(b -> b.bucket("vision")
                .key("llama/v" + m + "/weights.bin")).asByteArray())));

        // Without Content-MD5 the body is stored, then recognised: the manifest has its MD5, a clone of the first.
        alice.putObject(b -> b.bucket("vision").key("llama/v" + m + "/copy.bin"), RequestBody.fromBytes(weights));
        JsonObject manifest = new JsonObject(call(aliceToken, "GET", "/teams/vision/models/llama/versions/" + m
                + "/manifest", null, 200));
        List<JsonObject> files = manifest.getJsonArray("files").stream().map(o -> (JsonObject) o).toList();
        assertTrue(files.stream().anyMatch(f -> f.getString("path").equals("copy.bin") && md5.equals(f.getString("md5"))),
                files.toString());
        assertTrue(files.stream().anyMatch(f -> f.getString("path").equals("weights.bin")), files.toString());
        assertEquals(md5, HexFormat.of().formatHex(md5(alice.getObjectAsBytes(b -> b.bucket("vision")
                .key("llama/v" + m + "/copy.bin")).asByteArray())));

        // With Expect: 100-continue the known file's body is never sent.
        try (S3Presigner p = S3Presigner.builder().endpointOverride(URI.create(gateway.address()))
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        aliceKey.getString("accessKey"), aliceKey.getString("secretKey"))))
                .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build()).build()) {
            PresignedPutObjectRequest pr = p.presignPutObject(b -> b.signatureDuration(Duration.ofMinutes(5))
                    .putObjectRequest(o -> o.bucket("vision").key("llama/v" + m + "/again.bin").contentMD5(b64)));
            AtomicBoolean read = new AtomicBoolean();
            Flow.Publisher<ByteBuffer> body = s -> {
                read.set(true);
                HttpRequest.BodyPublishers.ofByteArray(weights).subscribe(s);
            };
            HttpRequest.Builder rb = HttpRequest.newBuilder(pr.url().toURI()).expectContinue(true)
                    .PUT(HttpRequest.BodyPublishers.fromPublisher(body, weights.length));
            pr.signedHeaders().forEach((k, vs) -> {
                if (!k.equalsIgnoreCase("host")) {
                    vs.forEach(x -> rb.header(k, x));
                }
            });
            HttpResponse<String> r = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(rb.build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("\"" + md5 + "\"", r.headers().firstValue("ETag").orElse(null));
            assertFalse(read.get(), "the body was sent");
        }
        assertEquals(weights.length, alice.headObject(b -> b.bucket("vision").key("llama/v" + m + "/again.bin"))
                .contentLength());
    }

    @Test
    void secretsAreStoredEncryptedAndKeysCanBeRevoked() throws Exception {
        List<RepoRecord> records = store.list("s3key/", null, 1000);
        assertTrue(records.size() >= 2);
        for (RepoRecord r : records) {
            String text = new String(r.value(), StandardCharsets.UTF_8);
            assertFalse(text.contains(aliceKey.getString("secretKey")), text);
            assertFalse(text.contains(carolKey.getString("secretKey")), text);
        }
        Path siteKey = dir.resolve("etc/repository.key");
        assertEquals(32, Files.size(siteKey));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(siteKey)));

        String carolToken = new JsonObject(call(admin, "POST", "/users/carol/tokens", new JsonObject(), 201))
                .getString("token");
        JsonObject extra = keys(carolToken, "POST", "/users/carol/s3-keys", 201);
        JsonArray listed = keys(carolToken, "GET", "/users/carol/s3-keys", 200).getJsonArray("list");
        assertTrue(listed.stream().anyMatch(o -> extra.getString("accessKey").equals(((JsonObject) o)
                .getString("accessKey"))));
        assertFalse(listed.encode().contains(extra.getString("secretKey")));
        try (S3Client c = client(extra)) {
            assertNotNull(c.listObjectsV2(b -> b.bucket("audio")));
            keys(carolToken, "DELETE", "/users/carol/s3-keys/" + extra.getString("accessKey"), 200);
            S3Exception e = assertThrows(S3Exception.class, () -> c.listObjectsV2(b -> b.bucket("audio")));
            assertEquals("InvalidAccessKeyId", e.awsErrorDetails().errorCode());
        }
        keys(carolToken, "DELETE", "/users/alice/s3-keys/" + aliceKey.getString("accessKey"), 403);
    }

    @Test
    void restUploadsAndDownloadsGoThroughTheGatewaysBodyBudget() throws Exception {
        String aliceToken = new JsonObject(call(admin, "POST", "/users/alice/tokens", new JsonObject(), 201))
                .getString("token");
        call(aliceToken, "POST", "/teams/vision/models", new JsonObject().put("name", "budgeted"), 201);
        call(aliceToken, "POST", "/teams/vision/models/budgeted/versions", new JsonObject(), 201);
        Budget budget = ((S3Gateway) gateway).budget();
        byte[] data = random(24 << 20, 31);
        String file = api + "/teams/vision/models/budgeted/versions/1/files/w.bin";
        HttpResponse<String> up = HTTP.send(HttpRequest.newBuilder(URI.create(file))
                .header("Authorization", "Bearer " + aliceToken).PUT(HttpRequest.BodyPublishers.ofByteArray(data))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, up.statusCode(), up.body());
        assertTrue(budget.peak() > 0, "the upload's pieces were counted");
        // Three downloads whose clients read nothing hold part of the budget, within it; then each is whole.
        URI u = URI.create(file);
        List<java.net.Socket> readers = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                java.net.Socket sock = new java.net.Socket();
                sock.setReceiveBufferSize(16 << 10);
                sock.connect(new java.net.InetSocketAddress(u.getHost(), u.getPort()));
                sock.getOutputStream().write(("GET " + u.getRawPath() + " HTTP/1.1\r\nHost: " + u.getHost() + ":"
                        + u.getPort() + "\r\nAuthorization: Bearer " + aliceToken + "\r\nConnection: close\r\n\r\n")
                        .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                sock.getOutputStream().flush();
                readers.add(sock);
            }
            for (int i = 0; i < 200 && budget.used() < (1 << 20); i++) {
                Thread.sleep(50);
            }
            assertTrue(budget.used() >= (1 << 20), "the stalled downloads' pieces are counted: " + budget.used());
            assertTrue(budget.peak() <= budget.limit() + (1 << 20), "peak " + budget.peak());
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(3);
            try {
                List<java.util.concurrent.Future<byte[]>> bodies = new java.util.ArrayList<>();
                for (java.net.Socket sock : readers) {
                    bodies.add(pool.submit(() -> sock.getInputStream().readAllBytes()));
                }
                for (java.util.concurrent.Future<byte[]> f : bodies) {
                    String r = new String(f.get(), java.nio.charset.StandardCharsets.ISO_8859_1);
                    assertTrue(r.startsWith("HTTP/1.1 200"), r.substring(0, Math.min(200, r.length())));
                    assertTrue(java.util.Arrays.equals(data, r.substring(r.indexOf("\r\n\r\n") + 4)
                            .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)), "the whole file");
                }
            } finally {
                pool.shutdownNow();
            }
        } finally {
            for (java.net.Socket sock : readers) {
                sock.close();
            }
        }
        for (int i = 0; i < 100 && (budget.used() != 0 || ((S3Gateway) gateway).smallBodies().used() != 0); i++) {
            Thread.sleep(50);
        }
        assertEquals(0, budget.used(), "every piece given back");
        assertEquals(0, ((S3Gateway) gateway).smallBodies().used(), "every JSON body given back");
    }
}
