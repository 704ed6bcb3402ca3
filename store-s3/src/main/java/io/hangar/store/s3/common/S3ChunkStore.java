package io.hangar.store.s3.common;

import io.hangar.spi.store.ChunkStore;
import io.hangar.spi.store.ListPage;
import io.hangar.spi.store.ObjectInfo;
import io.hangar.spi.store.StoreException;
import io.hangar.spi.store.StoreException.Kind;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.http.conn.DnsResolver;
import org.apache.http.impl.conn.SystemDefaultDnsResolver;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.exception.RetryableException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.profiles.ProfileFile;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.StandardRetryStrategy;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Objects in an S3 bucket (AWS S3, radosgw, MinIO, OSS through its S3 API), below an optional key prefix:
 * one object per block, written whole with a {@code Content-MD5} the service checks, read whole (the ETag,
 * an MD5 for single-part objects, checked) or by range, listed in key order by ListObjectsV2.
 *
 * <p>The SDK runs over the Apache HTTP client (no Netty) with a bounded pool ({@code max-connections}).
 * Requests are retried with exponential backoff and full jitter on 5xx, throttling (429, 503 SlowDown) and
 * timeouts or broken connections, never on other 4xx. Credentials: a named profile ({@code profile},
 * optionally from {@code credentials-file}), else the SDK's default chain (environment, system properties,
 * profile files, container and instance metadata; in OSS mode {@code OSS_ACCESS_KEY_ID},
 * {@code OSS_ACCESS_KEY_SECRET} and {@code OSS_SESSION_TOKEN} first). Request checksums are sent only where an operation
 * requires them, and never as {@code aws-chunked} uploads (neither radosgw nor OSS takes the trailer form).
 */
public final class S3ChunkStore implements ChunkStore {
    private static final int LIST_MAX = 1000;
    /** The array a response body passes through on its way into a direct buffer. */
    private static final int TRANSFER_CHUNK = 64 << 10;

    private final S3Settings settings;
    private final S3Client s3;
    private volatile boolean closed;

    private S3ChunkStore(S3Settings settings, S3Client s3) {
        this.settings = settings;
        this.s3 = s3;
    }

    /** Builds the client and checks the bucket is there and the credentials work on it. */
    public static S3ChunkStore open(S3Settings s) throws StoreException {
        S3Client client;
        // The SDK finds its interceptors and plugins through the context class loader first: in a framework
        // that is not the bundle's, which holds the embedded SDK.
        Thread t = Thread.currentThread();
        ClassLoader previous = t.getContextClassLoader();
        t.setContextClassLoader(S3ChunkStore.class.getClassLoader());
        try {
            client = client(s);
        } catch (SdkException | IllegalArgumentException | UncheckedIOException e) {
            throw new StoreException(Kind.INVALID, s.describe() + ": cannot set up the S3 client: " + e.getMessage());
        } finally {
            t.setContextClassLoader(previous);
        }
        S3ChunkStore store = new S3ChunkStore(s, client);
        try {
            client.headBucket(b -> b.bucket(s.bucket()));
        } catch (SdkException e) {
            StoreException m = store.map(e, "open bucket " + s.bucket());
            store.close();
            if (e instanceof AwsServiceException a && a.statusCode() == 404) {
                throw new StoreException(Kind.NOT_FOUND, s.describe() + ": there is no bucket '" + s.bucket() + "' at "
                        + where(s));
            }
            if (e instanceof AwsServiceException a && (a.statusCode() == 403 || a.statusCode() == 401)) {
                throw new StoreException(Kind.PERMISSION, s.describe() + ": " + where(s) + " refused the credentials"
                        + credentialSource(s) + " for bucket '" + s.bucket() + "' (HTTP " + a.statusCode() + ")");
            }
            if (m.kind() == Kind.TRANSIENT) {
                throw new StoreException(Kind.TRANSIENT, s.describe() + ": cannot reach " + where(s) + ": "
                        + m.getMessage());
            }
            throw m;
        }
        return store;
    }

    private static String where(S3Settings s) {
        return s.endpoint() == null ? "S3 (" + s.region() + ")" : s.endpoint().toString();
    }

    private static String credentialSource(S3Settings s) {
        return s.profile() == null ? " (default chain)" : " of profile '" + s.profile() + "'";
    }

    static S3Client client(S3Settings s) {
        ApacheHttpClient.Builder http = ApacheHttpClient.builder()
                .maxConnections(s.maxConnections())
                .connectionTimeout(Duration.ofSeconds(5))
                .socketTimeout(Duration.ofSeconds(30))
                .connectionAcquisitionTimeout(Duration.ofSeconds(60));
        if (!s.resolve().isEmpty()) {
            http.dnsResolver(new OverrideResolver(s.resolve()));
        }
        StandardRetryStrategy retry = StandardRetryStrategy.builder()
                .maxAttempts(s.attempts())
                .backoffStrategy(BackoffStrategy.exponentialDelay(Duration.ofMillis(100), Duration.ofSeconds(10)))
                .throttlingBackoffStrategy(BackoffStrategy.exponentialDelay(Duration.ofMillis(500), Duration.ofSeconds(20)))
                .retryOnException(S3ChunkStore::retryable)
                .treatAsThrottling(S3ChunkStore::throttling)
                .circuitBreakerEnabled(false)
                .useClientDefaults(false)
                .build();
        S3ClientBuilder b = S3Client.builder()
                .httpClient(http.build())
                .region(Region.of(s.region()))
                .forcePathStyle(s.pathStyle())
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .serviceConfiguration(c -> c.chunkedEncodingEnabled(false))
                .credentialsProvider(credentials(s))
                .overrideConfiguration(o -> o.retryStrategy(retry).apiCallAttemptTimeout(Duration.ofSeconds(60)));
        if (s.endpoint() != null) {
            b.endpointOverride(s.endpoint());
        }
        return b.build();
    }

    private static AwsCredentialsProvider credentials(S3Settings s) {
        if (s.profile() == null && s.credentialsFile() == null) {
            String id = s.ossHeaders() ? System.getenv("OSS_ACCESS_KEY_ID") : null;
            String secret = s.ossHeaders() ? System.getenv("OSS_ACCESS_KEY_SECRET") : null;
            if (id != null && !id.isEmpty() && secret != null && !secret.isEmpty()) {
                // Alibaba Cloud's own variables first in OSS mode, then the AWS chain
                String token = System.getenv("OSS_SESSION_TOKEN");
                return StaticCredentialsProvider.create(token == null || token.isEmpty()
                        ? AwsBasicCredentials.create(id, secret) : AwsSessionCredentials.create(id, secret, token));
            }
            return DefaultCredentialsProvider.builder().build();
        }
        ProfileCredentialsProvider.Builder p = ProfileCredentialsProvider.builder()
                .profileName(s.profile() == null ? "default" : s.profile());
        if (s.credentialsFile() != null) {
            p.profileFile(ProfileFile.builder().content(Path.of(s.credentialsFile()))
                    .type(ProfileFile.Type.CREDENTIALS).build());
        }
        return p.build();
    }

    /** 5xx, throttling, timeouts and broken connections; no other 4xx. */
    static boolean retryable(Throwable t) {
        if (t instanceof AwsServiceException e) {
            String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
            return e.statusCode() >= 500 || throttling(t) || "RequestTimeout".equals(code);
        }
        if (t instanceof SdkClientException) {
            for (Throwable c = t; c != null; c = c.getCause()) {
                if (c instanceof IOException) {
                    return true; // connect/read timeout, reset, refused (the endpoint restarting)
                }
            }
            return t.getClass().getSimpleName().contains("Timeout");
        }
        return false;
    }

    static boolean throttling(Throwable t) {
        if (t instanceof AwsServiceException e) {
            String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
            return e.statusCode() == 429 || "SlowDown".equals(code) || "Throttling".equals(code)
                    || "ThrottlingException".equals(code) || "TooManyRequests".equals(code);
        }
        return false;
    }

    @Override
    public String describe() {
        return settings.describe();
    }

    private String objectKey(String key) throws StoreException {
        checkOpen();
        if (key.isEmpty() || key.startsWith("/") || key.endsWith("/") || key.indexOf('\0') >= 0) {
            throw new StoreException(Kind.INVALID, "bad object key '" + key + "'");
        }
        for (String part : key.split("/", -1)) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                throw new StoreException(Kind.INVALID, "bad object key '" + key + "'");
            }
        }
        return settings.prefix() + key;
    }

    @Override
    public void put(String key, byte[] data, int off, int len) throws StoreException {
        String k = objectKey(key);
        if (off < 0 || len < 0 || off + len > data.length) {
            throw new StoreException(Kind.INVALID, "put " + key + ": bad range " + off + "+" + len);
        }
        MessageDigest d = md5();
        d.update(data, off, len);
        putObject(key, k, d, len, () -> new ByteArrayInputStream(data, off, len));
    }

    /**
     * Sends the buffer's remaining bytes as they are: each attempt reads a fresh view of them (a stream over a
     * duplicate), so a direct buffer is never copied into an array first. The SDK's
     * {@code RequestBody.fromByteBuffer}/{@code fromRemainingByteBuffer} would copy the whole buffer.
     */
    @Override
    public void put(String key, ByteBuffer data) throws StoreException {
        if (data.hasArray()) {
            put(key, data.array(), data.arrayOffset() + data.position(), data.remaining());
            return;
        }
        String k = objectKey(key);
        ByteBuffer src = data.duplicate();
        MessageDigest d = md5();
        d.update(src.duplicate());
        putObject(key, k, d, src.remaining(), () -> new BufferInputStream(src.duplicate()));
    }

    private void putObject(String key, String k, MessageDigest md5, int len, ContentStreamProvider body)
            throws StoreException {
        PutObjectRequest.Builder req = PutObjectRequest.builder().bucket(settings.bucket()).key(k)
                .contentLength((long) len).contentMD5(Base64.getEncoder().encodeToString(md5.digest()))
                .contentType("application/octet-stream");
        if (settings.storageClass() != null) {
            if (settings.ossHeaders()) {
                req.overrideConfiguration(o -> o.putHeader("x-oss-storage-class", settings.storageClass()));
            } else {
                req.storageClass(settings.storageClass());
            }
        }
        try {
            s3.putObject(req.build(), RequestBody.fromContentProvider(body, len, "application/octet-stream"));
        } catch (SdkException e) {
            throw map(e, "put " + key);
        }
    }

    @Override
    public byte[] get(String key, long offset, int length) throws StoreException {
        String k = objectKey(key);
        if (offset < 0) {
            throw new StoreException(Kind.INVALID, "get " + key + ": negative offset " + offset);
        }
        if (length == 0) {
            head(key);
            return new byte[0];
        }
        GetObjectRequest.Builder req = GetObjectRequest.builder().bucket(settings.bucket()).key(k);
        boolean whole = offset == 0 && length < 0;
        if (!whole) {
            req.range("bytes=" + offset + "-" + (length < 0 ? "" : Long.toString(offset + length - 1)));
        }
        try {
            ResponseBytes<GetObjectResponse> r = s3.getObjectAsBytes(req.build());
            byte[] b = r.asByteArrayUnsafe();
            if (whole) {
                MessageDigest d = md5();
                d.update(b);
                String bad = etagMismatch(key, r.response().eTag(), d);
                if (bad != null) {
                    throw new StoreException(Kind.TRANSIENT, bad);
                }
            }
            return b;
        } catch (AwsServiceException e) {
            if (e.statusCode() == 416) {
                return new byte[0]; // the object exists and the range starts at or past its end
            }
            throw map(e, "get " + key);
        } catch (SdkException e) {
            throw map(e, "get " + key);
        }
    }

    /**
     * Streams the response body straight into dst (a heap buffer's array, or a direct buffer through a small
     * transfer array), with no array of the whole object in between. The request asks for dst's room; when
     * the Content-Range shows that was the whole object (a block read whole, as the VFS does), its ETag is
     * checked as a whole-object get checks it. An attempt the SDK retries starts again at dst's position.
     */
    @Override
    public int get(String key, long offset, ByteBuffer dst) throws StoreException {
        String k = objectKey(key);
        if (offset < 0) {
            throw new StoreException(Kind.INVALID, "get " + key + ": negative offset " + offset);
        }
        int room = dst.remaining();
        if (room == 0) {
            head(key);
            return 0;
        }
        GetObjectRequest req = GetObjectRequest.builder().bucket(settings.bucket()).key(k)
                .range("bytes=" + offset + "-" + (offset + room - 1)).build();
        Got got;
        try {
            got = s3.getObject(req, (response, in) -> {
                ByteBuffer to = dst.duplicate();
                MessageDigest d = offset == 0 ? md5() : null;
                try {
                    readInto(in, to, d);
                } catch (IOException e) {
                    throw RetryableException.builder().message("get " + key + ": " + e.getMessage()).cause(e).build();
                }
                int n = to.position() - dst.position();
                boolean whole = d != null && n == totalLength(response.contentRange(), n);
                return new Got(n, whole ? etagMismatch(key, response.eTag(), d) : null);
            });
        } catch (AwsServiceException e) {
            if (e.statusCode() == 416) {
                return 0; // the object exists and the range starts at or past its end
            }
            throw map(e, "get " + key);
        } catch (SdkException e) {
            throw map(e, "get " + key);
        }
        if (got.mismatch() != null) {
            throw new StoreException(Kind.TRANSIENT, got.mismatch());
        }
        dst.position(dst.position() + got.n());
        return got.n();
    }

    /** What a ranged get read: how many bytes, and an ETag mismatch when it read the whole object. */
    private record Got(int n, String mismatch) {
    }

    /** Reads the stream to its end into {@code to} (never past its limit), updating {@code md5} if given. */
    private static void readInto(InputStream in, ByteBuffer to, MessageDigest md5) throws IOException {
        if (to.hasArray()) {
            byte[] a = to.array();
            int base = to.arrayOffset();
            int r;
            while (to.hasRemaining() && (r = in.read(a, base + to.position(), to.remaining())) >= 0) {
                if (md5 != null) {
                    md5.update(a, base + to.position(), r);
                }
                to.position(to.position() + r);
            }
            return;
        }
        byte[] chunk = new byte[TRANSFER_CHUNK];
        int r;
        while (to.hasRemaining() && (r = in.read(chunk, 0, Math.min(chunk.length, to.remaining()))) >= 0) {
            if (md5 != null) {
                md5.update(chunk, 0, r);
            }
            to.put(chunk, 0, r);
        }
    }

    /** The object's size from a Content-Range ("bytes 0-9/10"); {@code got} when there is none (a 200). */
    static long totalLength(String contentRange, long got) {
        if (contentRange == null) {
            return got;
        }
        int slash = contentRange.lastIndexOf('/');
        try {
            return slash < 0 ? -1 : Long.parseLong(contentRange.substring(slash + 1).trim());
        } catch (NumberFormatException e) {
            return -1; // "*": unknown size, nothing to compare
        }
    }

    /**
     * A single-part object's ETag is the MD5 of its bytes: null if they agree (or the ETag is no plain MD5),
     * else what is wrong, a corrupted transfer to be read again (TRANSIENT).
     */
    private static String etagMismatch(String key, String etag, MessageDigest md5) {
        if (etag == null) {
            return null;
        }
        String e = etag.replace("\"", "").toLowerCase(Locale.ROOT);
        if (e.length() != 32 || !e.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            return null; // multipart or service-specific ETag: nothing to compare
        }
        String got = HexFormat.of().formatHex(md5.digest());
        return got.equals(e) ? null : "get " + key + ": MD5 " + got + " of the bytes read does not match the ETag " + e;
    }

    @Override
    public ObjectInfo head(String key) throws StoreException {
        String k = objectKey(key);
        try {
            HeadObjectResponse r = s3.headObject(b -> b.bucket(settings.bucket()).key(k));
            return new ObjectInfo(key, r.contentLength(), r.lastModified() == null ? 0 : r.lastModified().toEpochMilli());
        } catch (SdkException e) {
            throw map(e, "head " + key);
        }
    }

    @Override
    public void delete(String key) throws StoreException {
        String k = objectKey(key);
        try {
            s3.deleteObject(b -> b.bucket(settings.bucket()).key(k));
        } catch (AwsServiceException e) {
            if (e.statusCode() != 404 || isNoSuchBucket(e)) {
                throw map(e, "delete " + key);
            }
        } catch (SdkException e) {
            throw map(e, "delete " + key);
        }
    }

    @Override
    public ListPage list(String prefix, String startAfter, int limit) throws StoreException {
        checkOpen();
        if (limit <= 0) {
            throw new StoreException(Kind.INVALID, "limit must be positive");
        }
        String base = settings.prefix();
        String after = startAfter == null ? null : base + startAfter;
        List<ObjectInfo> page = new ArrayList<>();
        try {
            while (true) {
                int want = Math.min(LIST_MAX, limit - page.size());
                ListObjectsV2Request.Builder req = ListObjectsV2Request.builder().bucket(settings.bucket())
                        .prefix(base + prefix).maxKeys(want);
                if (after != null && after.compareTo(base + prefix) >= 0) {
                    req.startAfter(after);
                }
                ListObjectsV2Response r = s3.listObjectsV2(req.build());
                for (S3Object o : r.contents()) {
                    page.add(new ObjectInfo(o.key().substring(base.length()), o.size(),
                            o.lastModified() == null ? 0 : o.lastModified().toEpochMilli()));
                }
                boolean more = Boolean.TRUE.equals(r.isTruncated()) && !r.contents().isEmpty();
                if (!more) {
                    return new ListPage(page, null);
                }
                after = r.contents().get(r.contents().size() - 1).key();
                if (page.size() >= limit) {
                    return new ListPage(page, page.get(page.size() - 1).key());
                }
            }
        } catch (SdkException e) {
            throw map(e, "list " + prefix);
        }
    }

    private static boolean isNoSuchBucket(AwsServiceException e) {
        return e.awsErrorDetails() != null && "NoSuchBucket".equals(e.awsErrorDetails().errorCode());
    }

    /** The kind of an SDK failure (after the retries): the message names the call, the status and the code. */
    StoreException map(SdkException e, String what) {
        if (closed) {
            return new StoreException(Kind.TRANSIENT, what + ": store is closed");
        }
        if (e instanceof AwsServiceException a) {
            int st = a.statusCode();
            String code = a.awsErrorDetails() == null ? null : a.awsErrorDetails().errorCode();
            String msg = what + ": HTTP " + st + (code == null ? "" : " " + code);
            if (isNoSuchBucket(a)) {
                return new StoreException(Kind.NOT_FOUND, msg + ": the bucket '" + settings.bucket() + "' is gone");
            }
            Kind k;
            if (st == 404) {
                k = Kind.NOT_FOUND;
            } else if (st == 401 || st == 403) {
                k = Kind.PERMISSION;
            } else if (st == 507 || "QuotaExceeded".equals(code)) {
                k = Kind.FULL;
            } else if (retryable(a)) {
                k = Kind.TRANSIENT;
            } else if ("BadDigest".equals(code)) {
                k = Kind.TRANSIENT; // the bytes were damaged on the way: sending them again may work
            } else {
                k = Kind.INVALID;
            }
            return new StoreException(k, msg);
        }
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (m.contains("Unable to load credentials") || m.contains("contained no credentials")
                || m.contains("Profile file")) {
            return new StoreException(Kind.PERMISSION, what + ": no credentials" + credentialSource(settings) + ": "
                    + firstLine(m));
        }
        return new StoreException(Kind.TRANSIENT, what + ": " + firstLine(m));
    }

    private static String firstLine(String m) {
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    private static MessageDigest md5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void checkOpen() throws StoreException {
        if (closed) {
            throw new StoreException(Kind.TRANSIENT, "store " + describe() + " is closed");
        }
    }

    @Override
    public void close() {
        closed = true;
        s3.close();
    }

    /** Host names resolved as given ({@code resolve=host:addr}: host and every name below it), others by DNS. */
    static final class OverrideResolver implements DnsResolver {
        private final Map<String, String> hosts;

        OverrideResolver(Map<String, String> hosts) {
            this.hosts = hosts;
        }

        @Override
        public InetAddress[] resolve(String host) throws UnknownHostException {
            String h = host.toLowerCase(Locale.ROOT);
            for (Map.Entry<String, String> e : hosts.entrySet()) {
                if (h.equals(e.getKey()) || h.endsWith("." + e.getKey())) {
                    return new InetAddress[] {InetAddress.getByName(e.getValue())};
                }
            }
            return SystemDefaultDnsResolver.INSTANCE.resolve(host);
        }
    }

    /** The remaining bytes of a buffer as a stream, read in place (no copy of the buffer). */
    static final class BufferInputStream extends InputStream {
        private final ByteBuffer b;

        BufferInputStream(ByteBuffer b) {
            this.b = b;
        }

        @Override
        public int read() {
            return b.hasRemaining() ? b.get() & 0xff : -1;
        }

        @Override
        public int read(byte[] to, int off, int len) {
            if (len == 0) {
                return 0;
            }
            if (!b.hasRemaining()) {
                return -1;
            }
            int n = Math.min(len, b.remaining());
            b.get(to, off, n);
            return n;
        }

        @Override
        public long skip(long n) {
            int k = (int) Math.max(0, Math.min(n, b.remaining()));
            b.position(b.position() + k);
            return k;
        }

        @Override
        public int available() {
            return b.remaining();
        }
    }
}
