package io.hangar.frontend.http.s3;

import io.hangar.fs.FsException;
import io.hangar.frontend.http.repo.S3Access;
import io.hangar.vfs.FileHandle;
import io.vertx.core.Future;
import io.vertx.core.AsyncResult;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.w3c.dom.Element;

/**
 * The S3 REST API on one volume. Runs on a Vert.x event loop; every volume call goes to the gateway's worker
 * pool. Request bodies stream into the volume as they arrive (the request is paused while more than
 * {@value #HIGH_WATER} bytes wait for the volume, resumed below {@value #LOW_WATER}); response bodies are
 * read one {@value #READ_CHUNK}-byte block at a time, the next read waiting for the connection to drain.
 */
final class S3Handler {
    private static final Logger LOG = Logger.getLogger(S3Handler.class.getName());
    static final int HIGH_WATER = 4 << 20;
    static final int LOW_WATER = 1 << 20;
    static final int WRITE_CHUNK = 1 << 20;
    static final int READ_CHUNK = 1 << 20;
    static final int MAX_XML_BODY = 4 << 20;
    /**
     * What all small bodies read whole at once (S3 XML, the repository API's JSON) may hold; past it a body is
     * refused with SlowDown.
     */
    static final int SMALL_BODIES = 4 * MAX_XML_BODY;
    static final int MAX_USER_METADATA = 2048;
    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);
    private static final Set<String> UNSUPPORTED_SUBRESOURCES = Set.of("versioning", "versions", "acl", "policy",
            "policyStatus", "lifecycle", "object-lock", "retention", "legal-hold", "encryption", "cors", "tagging",
            "website", "logging", "notification", "replication", "restore", "select", "torrent", "accelerate",
            "requestPayment", "analytics", "inventory", "metrics", "ownershipControls", "publicAccessBlock",
            "intelligent-tiering", "attributes", "session");
    private static final List<String> STORED_HEADERS = List.of("content-type", "cache-control",
            "content-disposition", "content-encoding", "content-language", "expires");
    private static final AtomicLong REQUEST_IDS = new AtomicLong(System.nanoTime());

    private final Vertx vertx;
    private final WorkerExecutor workers;
    private final ObjectStore store;
    private final Multipart multipart;
    private final SigV4 sigv4;
    private final String region;
    private final long keepAliveMs;
    private final Budget budget;
    private final Budget xmlBudget;
    /** ".<domain>" for virtual-hosted-style requests, or null. */
    private final String hostSuffix;
    private final GatewayMetrics metrics;
    /** Repository users' S3 keys, once the volume's repository store is attached. */
    private final RepositoryUsers users;

    S3Handler(Vertx vertx, WorkerExecutor workers, ObjectStore store, SigV4 sigv4, String region, long keepAliveMs,
            Budget budget, Budget smallBodies, String domain, GatewayMetrics metrics) {
        this.xmlBudget = smallBodies;
        this.metrics = metrics;
        this.hostSuffix = domain == null || domain.isEmpty() ? null : "." + domain;
        this.vertx = vertx;
        this.workers = workers;
        this.store = store;
        this.multipart = new Multipart(store);
        this.sigv4 = sigv4;
        this.region = region;
        this.keepAliveMs = keepAliveMs;
        this.budget = budget;
        this.users = new RepositoryUsers(store.volume);
    }

    Multipart multipart() {
        return multipart;
    }

    /** Honours the S3 keys of the users of the repository in {@code repository} (null: operator keys only). */
    void repository(io.hangar.spi.repo.RepositoryStore repository, String apiTokenFile) {
        users.attach(repository, apiTokenFile);
    }

    /** One request: what the handler needs about it, parsed once. */
    private final class Call {
        final HttpServerRequest req;
        final HttpServerResponse resp;
        final String requestId = Long.toHexString(REQUEST_IDS.incrementAndGet());
        String bucket;
        String key;
        List<Map.Entry<String, String>> query;
        SigV4.Auth auth;
        boolean failed;
        /** The repository user who signed the request, or null (an operator key). */
        S3Access.Principal principal;
        /** For a repository user's PutObject: the draft version file the key names, or null. */
        S3Access.Draft draft;

        Call(HttpServerRequest req) {
            this.req = req;
            this.resp = req.response();
        }

        String param(String name) {
            for (Map.Entry<String, String> e : query) {
                if (e.getKey().equals(name)) {
                    return e.getValue();
                }
            }
            return null;
        }

        boolean has(String name) {
            return param(name) != null;
        }

        String header(String name) {
            return req.getHeader(name);
        }

        String resource() {
            return "/" + (bucket == null ? "" : bucket) + (key == null ? "" : "/" + key);
        }
    }

    void handle(HttpServerRequest req) {
        req.pause();
        Call c = new Call(req);
        long start = System.nanoTime();
        // Once the whole response is written (a request the client abandons midway is not counted).
        c.resp.bodyEndHandler(v -> metrics.answered(req.method().name(), c.bucket == null ? "service"
                : c.key == null ? "bucket" : "object", c.resp.getStatusCode(), start, req.bytesRead(),
                c.resp.bytesWritten()));
        c.resp.putHeader("x-amz-request-id", c.requestId);
        c.resp.putHeader("Server", "Hangar");
        c.resp.putHeader("Date", HTTP_DATE.format(Instant.now()));
        try {
            route(c);
        } catch (S3Error e) {
            fail(c, e);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "S3 " + req.method() + " " + req.path() + ": " + e, e);
            fail(c, S3Error.internal(String.valueOf(e.getMessage())));
        }
    }

    /** The bucket of a Host header {@code <bucket>.<domain>[:port]}, or null (path style). */
    String virtualHostBucket(String host) {
        if (hostSuffix == null || host == null) {
            return null;
        }
        String h = host.trim().toLowerCase(java.util.Locale.ROOT);
        int colon = h.lastIndexOf(':');
        if (colon > 0 && h.indexOf(']') < colon) {
            h = h.substring(0, colon);
        }
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        if (!h.endsWith(hostSuffix) || h.length() == hostSuffix.length()) {
            return null;
        }
        return h.substring(0, h.length() - hostSuffix.length());
    }

    private void route(Call c) throws S3Error {
        HttpServerRequest req = c.req;
        c.query = parseQuery(req.query());
        String raw = req.path();
        if (raw == null || !raw.startsWith("/")) {
            throw S3Error.invalidRequest("malformed request path");
        }
        String path = Keys.uriDecode(raw, false);
        String hosted = virtualHostBucket(req.getHeader("Host"));
        if (hosted != null) {
            // Virtual-hosted style: the bucket is in the host name, the whole path is the key.
            c.bucket = hosted;
            if (path.length() > 1) {
                c.key = path.substring(1);
            }
        } else {
            int slash = path.indexOf('/', 1);
            if (path.length() > 1) {
                c.bucket = slash < 0 ? path.substring(1) : path.substring(1, slash);
                if (slash >= 0 && slash + 1 < path.length()) {
                    c.key = path.substring(slash + 1);
                }
            }
        }
        SigV4.Request signed = new SigV4.Request(req.method().name(), raw, c.query,
                name -> req.headers().getAll(name));
        if (users.access() != null && !sigv4.operatorKey(signed)) {
            // Perhaps a repository user's key: found, verified and authorized on a worker (the store blocks).
            String origin = req.remoteAddress() == null ? "unknown" : req.remoteAddress().hostAddress();
            workers.executeBlocking(() -> {
                S3Access.Key[] found = new S3Access.Key[1];
                SigV4.Auth a = sigv4.verify(signed, Instant.now(), ak -> {
                    try {
                        found[0] = users.find(ak, origin);
                    } catch (FsException e) {
                        throw S3Error.of(e, "");
                    }
                    return found[0] == null ? null
                            : new Credentials.Key(ak, found[0].secret(), Set.of(), Set.of());
                });
                if (found[0] == null) {
                    return a;
                }
                c.principal = found[0].principal();
                Credentials.Key grant = users.authorize(found[0], req.method().name(), c.bucket, c.key, c::param,
                        req::getHeader);
                return new SigV4.Auth(grant, a.payloadHash(), a.amzDate(), a.scope(), a.signingKey(),
                        a.seedSignature());
            }, false).onComplete(ar -> {
                if (ar.failed()) {
                    fail(c, asS3(ar.cause()));
                    return;
                }
                c.auth = ar.result();
                try {
                    dispatch(c);
                } catch (S3Error e) {
                    fail(c, e);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "S3 " + req.method() + " " + req.path() + ": " + e, e);
                    fail(c, S3Error.internal(String.valueOf(e.getMessage())));
                }
            });
            return;
        }
        c.auth = sigv4.verify(signed, Instant.now());
        dispatch(c);
    }

    /** A verified request: its operation. */
    private void dispatch(Call c) throws S3Error {
        HttpServerRequest req = c.req;
        for (Map.Entry<String, String> e : c.query) {
            if (UNSUPPORTED_SUBRESOURCES.contains(e.getKey())) {
                throw S3Error.notImplemented("?" + e.getKey());
            }
        }
        HttpMethod m = req.method();
        if (c.bucket == null) {
            if (m == HttpMethod.GET) {
                listBuckets(c);
                return;
            }
            throw new S3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
        }
        Keys.checkBucket(c.bucket);
        if (c.key == null) {
            bucketOp(c, m);
        } else {
            Keys.checkKey(c.key);
            objectOp(c, m);
        }
    }

    private void bucketOp(Call c, HttpMethod m) throws S3Error {
        if (m == HttpMethod.GET) {
            read(c, c.bucket);
            if (c.has("uploads")) {
                blocking(c, () -> listUploads(c));
            } else if (c.has("location")) {
                blocking(c, () -> {
                    store.bucket(c.bucket);
                    String loc = region.equals("us-east-1") ? "" : region;
                    return xml(200, Xml.doc("LocationConstraint").toString().replace("</LocationConstraint>",
                            loc + "</LocationConstraint>"));
                });
            } else if ("2".equals(c.param("list-type"))) {
                blocking(c, () -> listV2(c));
            } else {
                blocking(c, () -> listV1(c));
            }
        } else if (m == HttpMethod.HEAD) {
            read(c, c.bucket);
            blocking(c, () -> {
                store.bucket(c.bucket);
                return new Reply(200).header("x-amz-bucket-region", region);
            });
        } else if (m == HttpMethod.PUT) {
            write(c, c.bucket);
            if (!c.query.isEmpty()) {
                throw S3Error.notImplemented("PUT bucket ?" + c.query.get(0).getKey());
            }
            unsupportedHeaders(c);
            String acl = c.header("x-amz-acl");
            if (acl != null && !acl.equals("private")) {
                throw S3Error.notImplemented("x-amz-acl: " + acl);
            }
            if (c.header("x-amz-bucket-object-lock-enabled") != null
                    && c.header("x-amz-bucket-object-lock-enabled").equalsIgnoreCase("true")) {
                throw S3Error.notImplemented("x-amz-bucket-object-lock-enabled");
            }
            readBody(c, body -> blocking(c, () -> {
                store.createBucket(c.bucket);
                return new Reply(200).header("Location", "/" + c.bucket);
            }));
        } else if (m == HttpMethod.DELETE) {
            write(c, c.bucket);
            blocking(c, () -> {
                store.deleteBucket(c.bucket);
                return new Reply(204);
            });
        } else if (m == HttpMethod.POST && c.has("delete")) {
            write(c, c.bucket);
            readBody(c, body -> blocking(c, () -> deleteObjects(c, body)));
        } else {
            throw new S3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
        }
    }

    private void objectOp(Call c, HttpMethod m) throws S3Error {
        String uploadId = c.param("uploadId");
        if (m == HttpMethod.GET) {
            read(c, c.bucket);
            if (uploadId != null) {
                blocking(c, () -> listParts(c, uploadId));
            } else {
                if (c.has("partNumber") || c.has("versionId") && !"null".equals(c.param("versionId"))) {
                    throw S3Error.notImplemented(c.has("partNumber") ? "GET ?partNumber" : "?versionId");
                }
                if (c.header("x-amz-server-side-encryption-customer-algorithm") != null) {
                    throw S3Error.notImplemented("SSE-C");
                }
                getObject(c, true);
            }
        } else if (m == HttpMethod.HEAD) {
            read(c, c.bucket);
            if (c.has("partNumber")) {
                throw S3Error.notImplemented("HEAD ?partNumber");
            }
            getObject(c, false);
        } else if (m == HttpMethod.PUT) {
            write(c, c.bucket);
            String source = c.header("x-amz-copy-source");
            if (uploadId != null) {
                int n = Multipart.partNumber(c.param("partNumber"));
                if (source != null) {
                    uploadPartCopy(c, uploadId, n, source);
                } else {
                    putBody(c, uploadId, n);
                }
            } else if (c.has("partNumber")) {
                throw S3Error.invalidArgument("partNumber without uploadId");
            } else {
                unsupportedHeaders(c);
                if (source != null) {
                    copyObject(c, source);
                } else {
                    putBody(c, null, 0);
                }
            }
        } else if (m == HttpMethod.DELETE) {
            write(c, c.bucket);
            if (uploadId != null) {
                blocking(c, () -> {
                    store.bucket(c.bucket);
                    multipart.abort(multipart.get(uploadId, c.bucket, c.key));
                    return new Reply(204);
                });
            } else {
                blocking(c, () -> {
                    long b = store.bucket(c.bucket);
                    store.delete(b, c.key);
                    return new Reply(204);
                });
            }
        } else if (m == HttpMethod.POST) {
            write(c, c.bucket);
            if (c.has("uploads")) {
                unsupportedHeaders(c);
                Map<String, String> headers = objectHeaders(c);
                readBody(c, body -> blocking(c, () -> {
                    store.bucket(c.bucket);
                    Multipart.Upload u = multipart.create(c.bucket, c.key, headers);
                    return xml(200, Xml.doc("InitiateMultipartUploadResult").elem("Bucket", c.bucket)
                            .elem("Key", c.key).elem("UploadId", u.id()).toString());
                }));
            } else if (uploadId != null) {
                readBody(c, body -> complete(c, uploadId, body));
            } else {
                throw S3Error.notImplemented("POST object");
            }
        } else {
            throw new S3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
        }
    }

    private void read(Call c, String bucket) throws S3Error {
        if (!c.auth.key().canRead(bucket)) {
            throw S3Error.accessDenied("Access Denied: " + c.auth.key().accessKey() + " may not read " + bucket);
        }
    }

    private void write(Call c, String bucket) throws S3Error {
        if (!c.auth.key().canWrite(bucket)) {
            throw S3Error.accessDenied("Access Denied: " + c.auth.key().accessKey() + " may not write " + bucket);
        }
    }

    private static void unsupportedHeaders(Call c) throws S3Error {
        for (String h : c.req.headers().names()) {
            String l = h.toLowerCase(Locale.ROOT);
            if (l.startsWith("x-amz-server-side-encryption") || l.startsWith("x-amz-object-lock")
                    || l.startsWith("x-amz-grant-") || l.equals("x-amz-tagging")
                    || l.equals("x-amz-website-redirect-location")) {
                throw S3Error.notImplemented(l);
            }
        }
        String acl = c.header("x-amz-acl");
        if (acl != null && !acl.equals("private") && !acl.equals("bucket-owner-full-control")) {
            throw S3Error.notImplemented("x-amz-acl: " + acl);
        }
    }

    // ---- responses

    /** What a blocking step answers: status, headers, an optional body. */
    static final class Reply {
        final int status;
        final Map<String, String> headers = new LinkedHashMap<>();
        Buffer body;
        /** A GET's open file and range to stream after the headers. */
        FileHandle stream;
        long from;
        long to;

        Reply(int status) {
            this.status = status;
        }

        Reply header(String name, String value) {
            if (value != null) {
                headers.put(name, value);
            }
            return this;
        }
    }

    static Reply xml(int status, String xml) {
        Reply r = new Reply(status);
        r.header("Content-Type", "application/xml");
        r.body = Buffer.buffer(xml.getBytes(StandardCharsets.UTF_8));
        return r;
    }

    /** Runs {@code step} on a worker and sends what it answers (or the error it throws). */
    private void blocking(Call c, Callable<Reply> step) {
        workers.executeBlocking(step, false).onComplete(ar -> {
            if (ar.succeeded()) {
                send(c, ar.result());
            } else {
                fail(c, asS3(ar.cause()));
            }
        });
    }

    static S3Error asS3(Throwable t) {
        if (t instanceof S3Error s) {
            return s;
        }
        if (t instanceof FsException f) {
            return S3Error.of(f, "");
        }
        LOG.log(Level.WARNING, "S3 request failed: " + t, t);
        return S3Error.internal(String.valueOf(t.getMessage()));
    }

    private void send(Call c, Reply r) {
        if (c.resp.ended() || c.resp.closed()) {
            closeQuietly(r.stream);
            return;
        }
        c.resp.setStatusCode(r.status);
        r.headers.forEach(c.resp::putHeader);
        if (r.stream != null) {
            c.resp.putHeader("Content-Length", Long.toString(r.to - r.from));
            if (c.req.method() == HttpMethod.HEAD || r.to == r.from) {
                FileHandle h = r.stream;
                workers.executeBlocking(() -> {
                    closeQuietly(h);
                    return null;
                }, false);
                c.resp.end();
                return;
            }
            c.resp.closeHandler(v -> c.failed = true);
            // A ranged GET (awscli's parallel download, say) fetches ahead inside its range only: blocks past
            // it are another request's, and would be fetched twice.
            r.stream.readRange(r.from, r.to);
            pump(c, r.stream, r.from, r.to);
            return;
        }
        if (r.body != null) {
            if (c.req.method() == HttpMethod.HEAD) {
                c.resp.putHeader("Content-Length", Integer.toString(r.body.length()));
                c.resp.end();
            } else {
                c.resp.end(r.body);
            }
        } else {
            if (!r.headers.containsKey("Content-Length")) {
                c.resp.putHeader("Content-Length", "0");
            }
            c.resp.end();
        }
        finishRequest(c);
    }

    /** A request body nobody will read: close the connection once the response is out, do not drain it. */
    private static void finishRequest(Call c) {
        if (!c.req.isEnded()) {
            c.req.resume();
        }
    }

    void fail(Call c, S3Error e) {
        c.failed = true;
        if (c.principal != null && e.status == 403) {
            // A repository user refused (by the repository's rules, or by a frozen tree): audited, and answered
            // once the entry is committed, so a client that saw the 403 finds it in the log.
            S3Access a = users.access();
            S3Access.Principal p = c.principal;
            if (a != null) {
                workers.executeBlocking(() -> {
                    a.refused(p, c.bucket, c.key, "S3 " + c.req.method() + " " + c.resource(), e.getMessage());
                    return null;
                }, false).onComplete(x -> answer(c, e));
                return;
            }
        }
        answer(c, e);
    }

    private void answer(Call c, S3Error e) {
        if (e.status >= 500 && e.status != 501) {
            LOG.log(Level.WARNING, "S3 " + c.req.method() + " " + c.resource() + ": " + e.code + " " + e.getMessage());
        } else {
            LOG.fine("S3 " + c.req.method() + " " + c.resource() + ": " + e.code + " " + e.getMessage());
        }
        if (c.resp.ended() || c.resp.closed()) {
            return;
        }
        if (c.resp.headWritten()) {
            // Headers are out (a Complete keeping its connection alive): the error goes into the 200's body,
            // after the XML declaration already sent.
            String x = Xml.error(e.code, e.getMessage(), c.resource(), c.requestId);
            c.resp.end(x.substring(x.indexOf('\n') + 1));
            return;
        }
        c.resp.setStatusCode(e.status);
        if (e instanceof RangeError re) {
            c.resp.putHeader("Content-Range", "bytes */" + re.length);
        }
        byte[] body = Xml.error(e.code, e.getMessage(), c.resource(), c.requestId).getBytes(StandardCharsets.UTF_8);
        c.resp.putHeader("Content-Type", "application/xml");
        boolean unread = !c.req.isEnded();
        if (unread) {
            // The client may still be sending a body we will not read: answer, then close.
            c.resp.putHeader("Connection", "close");
        }
        Future<Void> sent;
        if (c.req.method() == HttpMethod.HEAD) {
            c.resp.putHeader("Content-Length", Integer.toString(body.length));
            sent = c.resp.end();
        } else {
            sent = c.resp.end(Buffer.buffer(body));
        }
        if (unread) {
            sent.onComplete(v -> c.req.connection().close());
        }
    }

    private static void closeQuietly(FileHandle h) {
        if (h != null) {
            try {
                h.close();
            } catch (FsException | RuntimeException e) {
                LOG.fine("closing a read handle: " + e.getMessage());
            }
        }
    }

    /** Streams [pos, end) of an open file: one block read on a worker, written, the next when the socket drains. */
    private void pump(Call c, FileHandle h, long pos, long end) {
        if (c.failed || c.resp.closed()) {
            workers.executeBlocking(() -> {
                closeQuietly(h);
                return null;
            }, false);
            return;
        }
        int want = (int) Math.min(READ_CHUNK, end - pos);
        // The read's bytes are held from the read until the connection has taken them; they are read only
        // once they fit in the gateway's budget.
        budget.acquireOn(want, vertx.getOrCreateContext(), () -> readAndSend(c, h, pos, end, want));
    }

    /** Reads {@code want} bytes at {@code pos} (taken from the budget already) and writes them out. */
    private void readAndSend(Call c, FileHandle h, long pos, long end, int want) {
        if (c.failed || c.resp.closed()) {
            budget.release(want);
            workers.executeBlocking(() -> {
                closeQuietly(h);
                return null;
            }, false);
            return;
        }
        workers.executeBlocking(() -> {
            // Read straight into a direct buffer of Netty's allocator, which the socket write takes as it is:
            // no zero-filled heap array per MiB, and no copy of it into a direct buffer on the way out. Vert.x
            // writes it through an unreleasable view, so it is released here once the write is done.
            ByteBuf bb = ByteBufAllocator.DEFAULT.directBuffer(want, want);
            try {
                java.nio.ByteBuffer dst = bb.nioBuffer(0, want);
                while (dst.hasRemaining()) {
                    if (h.read(pos + dst.position(), dst) <= 0) {
                        break;
                    }
                }
                if (dst.hasRemaining()) {
                    // The file shrank while we served it (written through a mount): cut the response.
                    throw new FsException(io.hangar.fs.Errno.EIO, "object changed while it was read");
                }
                bb.writerIndex(want);
                return bb;
            } catch (FsException | RuntimeException | Error e) {
                bb.release();
                throw e;
            }
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                budget.release(want);
                LOG.warning("S3 GET " + c.resource() + ": " + ar.cause().getMessage());
                closeQuietly(h);
                c.resp.reset();
                return;
            }
            ByteBuf bb = ar.result();
            Buffer b = BufferInternal.buffer(bb);
            // Once the socket has the bytes (or the write failed): the buffer and its share of the budget go.
            Handler<AsyncResult<Void>> written = x -> {
                bb.release();
                budget.release(want);
            };
            long next = pos + want;
            if (next >= end) {
                c.resp.end(b).onComplete(written);
                workers.executeBlocking(() -> {
                    closeQuietly(h);
                    return null;
                }, false);
                return;
            }
            c.resp.write(b).onComplete(written);
            if (c.resp.writeQueueFull()) {
                c.resp.drainHandler(v -> pump(c, h, next, end));
            } else {
                pump(c, h, next, end);
            }
        });
    }

    // ---- request bodies

    interface BodyUser {
        void accept(byte[] body) throws S3Error;
    }

    /** Reads a small body (XML) whole, at most {@value #MAX_XML_BODY} bytes, checking its declared hashes. */
    private void readBody(Call c, BodyUser then) throws S3Error {
        Buffer acc = Buffer.buffer();
        ChunkedDecoder dec = c.auth.streaming() ? new ChunkedDecoder(c.auth) : null;
        // What this body holds of the gateway's XML budget, given back once when the body is read or lost.
        long[] held = {0};
        Runnable giveBack = () -> {
            xmlBudget.release(held[0]);
            held[0] = 0;
        };
        continueIfExpected(c);
        c.req.handler(b -> {
            if (c.failed) {
                return;
            }
            try {
                if (acc.length() + b.length() > MAX_XML_BODY) {
                    throw new S3Error(400, "MaxMessageLengthExceeded", "Your request was too big.");
                }
                held[0] += b.length();
                xmlBudget.take(b.length());
                if (xmlBudget.over()) {
                    // Waiting for room could wait forever (every body waiting holds some): refused instead.
                    throw S3Error.slowDown("too many large request bodies at once");
                }
                if (dec != null) {
                    byte[] bytes = b.getBytes();
                    dec.feed(bytes, 0, bytes.length, (x, off, len) -> acc.appendBytes(x, off, len));
                } else {
                    acc.appendBuffer(b);
                }
            } catch (S3Error e) {
                giveBack.run();
                fail(c, e);
            }
        });
        c.req.exceptionHandler(t -> {
            giveBack.run();
            c.failed = true;
        });
        c.resp.closeHandler(v -> giveBack.run());
        c.req.endHandler(v -> {
            giveBack.run();
            if (c.failed) {
                return;
            }
            try {
                if (dec != null) {
                    dec.finish();
                }
                byte[] body = acc.getBytes();
                String sha = c.auth.bodySha256();
                if (sha != null && !sha.equals(SigV4.sha256Hex(body))) {
                    throw new S3Error(400, "XAmzContentSHA256Mismatch",
                            "The provided 'x-amz-content-sha256' header does not match what was computed.");
                }
                String md5 = c.header("Content-MD5");
                if (md5 != null && !MessageDigest.isEqual(decodeMd5(md5), ObjectStore.md5().digest(body))) {
                    throw new S3Error(400, "BadDigest", "The Content-MD5 you specified did not match what we received.");
                }
                then.accept(body);
            } catch (S3Error e) {
                fail(c, e);
            }
        });
        c.req.resume();
    }

    private static void continueIfExpected(Call c) {
        String expect = c.header("Expect");
        if (expect != null && expect.equalsIgnoreCase("100-continue")) {
            c.resp.writeContinue();
        }
    }

    static byte[] decodeMd5(String b64) throws S3Error {
        try {
            byte[] d = Base64.getDecoder().decode(b64.trim());
            if (d.length == 16) {
                return d;
            }
        } catch (IllegalArgumentException e) {
            // below
        }
        throw new S3Error(400, "InvalidDigest", "The Content-MD5 you specified is not valid.");
    }

    /** Headers stored with an object: Content-Type and the other representation headers, x-amz-meta-*. */
    private static Map<String, String> objectHeaders(Call c) throws S3Error {
        Map<String, String> out = new LinkedHashMap<>();
        MultiMap h = c.req.headers();
        for (String name : STORED_HEADERS) {
            String v = h.get(name);
            if (v == null) {
                continue;
            }
            if (name.equals("content-encoding")) {
                List<String> parts = new ArrayList<>();
                for (String p : v.split(",")) {
                    if (!p.trim().equalsIgnoreCase("aws-chunked") && !p.isBlank()) {
                        parts.add(p.trim());
                    }
                }
                if (parts.isEmpty()) {
                    continue;
                }
                v = String.join(",", parts);
            }
            out.put(name, v.replace('\n', ' '));
        }
        int userBytes = 0;
        for (Map.Entry<String, String> e : h.entries()) {
            String l = e.getKey().toLowerCase(Locale.ROOT);
            if (l.startsWith("x-amz-meta-")) {
                String v = e.getValue().replace('\n', ' ');
                out.merge(l, v, (a, b) -> a + "," + b);
                userBytes += l.length() - 11 + v.length();
            }
        }
        if (userBytes > MAX_USER_METADATA) {
            throw new S3Error(400, "MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata "
                    + "size (2 KB)");
        }
        return out;
    }

    /**
     * PutObject (uploadId null) or UploadPart: the body (plain or aws-chunked) streams into a new file in tmp/
     * on a worker, MD5 (and SHA-256, a checksum, when asked for) computed as it goes; when it is whole and
     * every digest matches, the file is renamed into place. Any failure removes the file.
     */
    private void putBody(Call c, String uploadId, int partNumber) throws S3Error {
        Map<String, String> headers = uploadId == null ? objectHeaders(c) : Map.of();
        String contentMd5 = c.header("Content-MD5");
        byte[] wantMd5 = contentMd5 == null ? null : decodeMd5(contentMd5);
        String lengthHeader = c.header("Content-Length");
        String te = c.header("Transfer-Encoding");
        if (lengthHeader == null && (te == null || !te.toLowerCase(Locale.ROOT).contains("chunked"))) {
            throw new S3Error(411, "MissingContentLength", "You must provide the Content-Length HTTP header.");
        }
        long declared = -1;
        String decodedHeader = c.header("x-amz-decoded-content-length");
        if (c.auth.streaming()) {
            if (decodedHeader == null) {
                throw new S3Error(411, "MissingContentLength",
                        "aws-chunked uploads need the x-amz-decoded-content-length header.");
            }
            declared = parseLength(decodedHeader);
        } else if (lengthHeader != null) {
            declared = parseLength(lengthHeader);
        }
        Checksum checksum = null;
        String checksumValue = null;
        String trailer = c.header("x-amz-trailer");
        for (String name : c.req.headers().names()) {
            String l = name.toLowerCase(Locale.ROOT);
            if (l.startsWith("x-amz-checksum-") && !l.equals("x-amz-checksum-algorithm")
                    && !l.equals("x-amz-checksum-type")) {
                checksum = Checksum.of(l.substring(15));
                if (checksum == null) {
                    throw S3Error.invalidRequest("unknown checksum " + l);
                }
                checksumValue = c.header(name).trim();
            }
        }
        if (trailer != null && checksum == null) {
            String t = trailer.trim().toLowerCase(Locale.ROOT);
            if (!t.startsWith("x-amz-checksum-") || (checksum = Checksum.of(t.substring(15))) == null) {
                throw S3Error.invalidRequest("unsupported x-amz-trailer " + trailer);
            }
        }
        String ifNoneMatch = uploadId == null ? c.header("If-None-Match") : null;
        String ifMatch = uploadId == null ? c.header("If-Match") : null;
        final Checksum sum = checksum;
        final String sumValue = checksumValue;
        final long expected = declared;
        final String trailerName = trailer == null ? null : trailer.trim().toLowerCase(Locale.ROOT);
        workers.executeBlocking(() -> {
            long b = store.bucket(c.bucket);
            Multipart.Upload u = uploadId == null ? null : multipart.get(uploadId, c.bucket, c.key);
            if (uploadId == null && c.key.endsWith("/")) {
                if (expected > 0) {
                    throw S3Error.invalidArgument("a key ending in '/' is a directory marker and takes no data");
                }
                return new Object[] {b, u, null};
            }
            S3Access repo = users.access();
            if (uploadId == null && c.principal != null && repo != null) {
                c.draft = repo.draft(c.principal, c.bucket, c.key);
                // A file of a draft whose MD5 the team stores already: linked, and its body never read.
                if (c.draft != null && wantMd5 != null && expected >= 0 && ifMatch == null && ifNoneMatch == null) {
                    String hex = HexFormat.of().formatHex(wantMd5);
                    try {
                        if (repo.link(c.principal, c.draft, hex, expected)) {
                            return new Object[] {b, u, null, hex};
                        }
                    } catch (S3Access.Denied d) {
                        throw S3Error.accessDenied("Access Denied: " + d.getMessage());
                    }
                }
            }
            return new Object[] {b, u, store.temp()};
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                fail(c, asS3(ar.cause()));
                return;
            }
            if (ar.result().length == 4) {
                linked(c, (String) ar.result()[3]);
                return;
            }
            long b = (Long) ar.result()[0];
            Multipart.Upload u = (Multipart.Upload) ar.result()[1];
            ObjectStore.Temp t = (ObjectStore.Temp) ar.result()[2];
            if (t == null) {
                // A directory marker: an empty body.
                try {
                    readBody(c, body -> blocking(c, () -> {
                        ObjectStore.Info i = store.putMarker(b, c.key, headers);
                        return new Reply(200).header("ETag", quote(i.etag()));
                    }));
                } catch (S3Error e) {
                    fail(c, e);
                }
                return;
            }
            Sink sink = new Sink(c, t, sum, c.auth.bodySha256() != null);
            ChunkedDecoder dec = c.auth.streaming() ? new ChunkedDecoder(c.auth) : null;
            c.req.exceptionHandler(e -> sink.abort("the client went away: " + e.getMessage()));
            c.resp.closeHandler(v -> sink.abort("the connection closed"));
            if (c.resp.closed()) {
                // Closed while the worker made the file: the close event went by before the handler was set.
                sink.abort("the connection closed before the body was read");
                return;
            }
            c.req.handler(buf -> {
                if (sink.done) {
                    return;
                }
                try {
                    if (dec != null) {
                        byte[] bytes = buf.getBytes();
                        dec.feed(bytes, 0, bytes.length, sink::data);
                    } else {
                        sink.data(buf);
                    }
                } catch (S3Error e) {
                    sink.fail(e);
                }
            });
            c.req.endHandler(v -> {
                if (sink.done) {
                    return;
                }
                try {
                    if (dec != null) {
                        dec.finish();
                    }
                } catch (S3Error e) {
                    sink.fail(e);
                    return;
                }
                sink.finish(() -> {
                    // On a worker, after the last write: check what was promised, then commit.
                    if (expected >= 0 && sink.length != expected) {
                        throw new S3Error(400, "IncompleteBody", "You did not provide the number of bytes "
                                + "specified by the Content-Length HTTP header: " + sink.length + " of " + expected);
                    }
                    byte[] md5 = sink.md5.digest();
                    if (wantMd5 != null && !MessageDigest.isEqual(wantMd5, md5)) {
                        throw new S3Error(400, "BadDigest", "The Content-MD5 you specified did not match what "
                                + "we received.");
                    }
                    String sha = c.auth.bodySha256();
                    if (sha != null && !sha.equals(HexFormat.of().formatHex(sink.sha256.digest()))) {
                        throw new S3Error(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' "
                                + "header does not match what was computed.");
                    }
                    String sumGot = null;
                    if (sum != null) {
                        sumGot = sum.value();
                        String want = sumValue != null ? sumValue
                                : dec != null ? dec.trailers().get(trailerName) : null;
                        if (want == null) {
                            throw S3Error.invalidRequest("the trailer " + trailerName + " is missing");
                        }
                        if (!want.equals(sumGot)) {
                            throw new S3Error(400, "BadDigest", "The " + sum.algorithm.toUpperCase(Locale.ROOT)
                                    + " you specified did not match the calculated checksum.");
                        }
                    }
                    String etag = HexFormat.of().formatHex(md5);
                    Reply r = new Reply(200);
                    if (u != null) {
                        multipart.commitPart(u, partNumber, t, etag);
                    } else {
                        precondition(b, c.key, ifMatch, ifNoneMatch);
                        store.commit(b, c.key, t, etag, headers);
                        recordInDraft(c, etag);
                    }
                    r.header("ETag", quote(etag));
                    if (sum != null) {
                        r.header(sum.header(), sumGot);
                    }
                    return r;
                });
            });
            continueIfExpected(c);
            c.req.resume();
        });
    }

    /**
     * The answer to a PutObject that was linked to a stored file: 200 with the MD5 as ETag, the body unread.
     * With Expect: 100-continue the client has not sent it and the connection closes after the answer;
     * without, whatever arrives is discarded.
     */
    private void linked(Call c, String md5Hex) {
        String expect = c.header("Expect");
        if (expect != null && expect.equalsIgnoreCase("100-continue") && !c.req.isEnded()) {
            c.resp.putHeader("Connection", "close");
            c.resp.endHandler(v -> c.req.connection().close());
        }
        c.resp.putHeader("x-hangar-deduplicated", "true");
        send(c, new Reply(200).header("ETag", quote(md5Hex)));
    }

    /**
     * After a repository user's PutObject into a draft: the manifest and the team's MD5 index learn the file,
     * and if the team stored that MD5 already the new file becomes a clone of the stored one (its blocks
     * released). The object is in place either way; a failure here only leaves the MD5 for submit to compute.
     */
    private void recordInDraft(Call c, String md5Hex) {
        S3Access repo = users.access();
        if (c.draft == null || c.principal == null || repo == null) {
            return;
        }
        try {
            repo.record(c.principal, c.draft, md5Hex);
        } catch (S3Access.Denied | FsException | RuntimeException e) {
            LOG.warning("S3 PUT " + c.resource() + ": stored, but not recorded in " + c.draft + ": " + e.getMessage());
        }
    }

    /** Conditional PUT: If-None-Match: * (the key must not exist) and If-Match (its ETag must be one given). */
    private void precondition(long bucket, String key, String ifMatch, String ifNoneMatch) throws S3Error {
        if (ifMatch == null && ifNoneMatch == null) {
            return;
        }
        ObjectStore.Info cur;
        try {
            cur = store.stat(bucket, key);
        } catch (S3Error e) {
            if (e.code.equals("NoSuchKey")) {
                cur = null;
            } else {
                throw e;
            }
        }
        if (ifNoneMatch != null && ifNoneMatch.trim().equals("*") && cur != null) {
            throw S3Error.preconditionFailed();
        }
        if (ifMatch != null) {
            if (cur == null) {
                throw S3Error.noSuchKey(key);
            }
            if (!etagMatches(ifMatch, cur.etag())) {
                throw S3Error.preconditionFailed();
            }
        }
    }

    private static long parseLength(String v) throws S3Error {
        try {
            long n = Long.parseLong(v.trim());
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw S3Error.invalidArgument("malformed length " + v);
    }

    /** Where a streamed body goes: batches of about a MiB, written in order on workers, with back-pressure. */
    private final class Sink {
        final Call c;
        final ObjectStore.Temp t;
        final Checksum sum;
        final MessageDigest md5 = ObjectStore.md5();
        final MessageDigest sha256;
        /** What arrived since the last batch went to the volume (no buffer is allocated ahead of the data). */
        final Pieces pending = new Pieces(budget);
        final io.vertx.core.Context context = vertx.getOrCreateContext();
        long queued;
        long length;
        long position;
        boolean paused;
        boolean done;
        Future<Void> tail = Future.succeededFuture();

        Sink(Call c, ObjectStore.Temp t, Checksum sum, boolean sha) {
            this.c = c;
            this.t = t;
            this.sum = sum;
            this.sha256 = sha ? SigV4.sha256() : null;
        }

        void data(byte[] b, int off, int len) {
            if (len == 0) {
                return;
            }
            pending.add(off == 0 && len == b.length ? b : java.util.Arrays.copyOfRange(b, off, off + len));
            if (pending.length() >= WRITE_CHUNK || budget.over()) {
                // Over the budget, the partial batch goes too: a paused request then holds only writes in
                // flight, which end by themselves, never bytes that wait for more of its body.
                ship();
            }
        }

        void data(Buffer b) {
            byte[] bytes = b.getBytes();
            data(bytes, 0, bytes.length);
        }

        /** Queues the pending batch for the volume; pauses the request while too much waits. */
        private void ship() {
            if (pending.length() == 0) {
                return;
            }
            byte[] bytes = pending.take();
            long at = position;
            position += bytes.length;
            queued += bytes.length;
            tail = tail.compose(v -> workers.<Void>executeBlocking(() -> {
                t.handle().write(at, bytes, 0, bytes.length);
                md5.update(bytes);
                if (sha256 != null) {
                    sha256.update(bytes);
                }
                if (sum != null) {
                    sum.update(bytes, 0, bytes.length);
                }
                length += bytes.length;
                return null;
            }, false)).onComplete(ar -> {
                queued -= bytes.length;
                budget.release(bytes.length);
                if (ar.failed()) {
                    fail(asS3(ar.cause()));
                } else {
                    maybeResume();
                }
            });
            if ((queued > HIGH_WATER || budget.over()) && !paused) {
                paused = true;
                c.req.pause();
                if (queued <= HIGH_WATER) {
                    // Paused for the gateway's budget, not its own writes: woken when the budget frees.
                    budget.awaitOn(context, this::maybeResume);
                }
            }
        }

        /** On the request's context: resumes when its own queue and the gateway's budget allow. */
        void maybeResume() {
            if (!paused || done || queued > LOW_WATER) {
                return;
            }
            if (budget.over()) {
                budget.awaitOn(context, this::maybeResume);
                return;
            }
            paused = false;
            c.req.resume();
        }

        void finish(Callable<Reply> commit) {
            ship();
            done = true;
            Promise<Reply> p = Promise.promise();
            tail.onComplete(ar -> {
                if (ar.failed()) {
                    p.fail(ar.cause());
                    return;
                }
                workers.executeBlocking(() -> {
                    try {
                        return commit.call();
                    } catch (Exception e) {
                        store.discard(t);
                        throw e;
                    }
                }, false).onComplete(p);
            });
            p.future().onComplete(ar -> {
                if (ar.succeeded()) {
                    send(c, ar.result());
                } else {
                    S3Handler.this.fail(c, asS3(ar.cause()));
                }
            });
        }

        void fail(S3Error e) {
            if (done && !c.failed && c.resp.ended()) {
                return;
            }
            boolean first = !done;
            done = true;
            if (first) {
                pending.drop();
                discardAfterWrites();
            }
            S3Handler.this.fail(c, e);
        }

        void abort(String why) {
            if (done) {
                return;
            }
            done = true;
            c.failed = true;
            LOG.fine("S3 PUT " + c.resource() + " aborted: " + why);
            pending.drop();
            discardAfterWrites();
        }

        private void discardAfterWrites() {
            tail.onComplete(ar -> workers.executeBlocking(() -> {
                store.discard(t);
                return null;
            }, false));
        }
    }

    // ---- objects

    private void getObject(Call c, boolean body) {
        String range = c.header("Range");
        blocking(c, () -> {
            long b = store.bucket(c.bucket);
            ObjectStore.Opened o = store.open(b, c.key, body);
            try {
                return getReply(c, o.info(), o.handle(), range);
            } catch (S3Error | RuntimeException e) {
                closeQuietly(o.handle());
                throw e;
            }
        });
    }

    private Reply getReply(Call c, ObjectStore.Info i, FileHandle h, String range) throws S3Error {
        {
            Integer cond = conditions(c, i);
            Reply r = new Reply(200);
            r.header("ETag", quote(i.etag()));
            r.header("Last-Modified", HTTP_DATE.format(Instant.ofEpochSecond(0, i.mtimeNs())));
            if (cond != null) {
                closeQuietly(h);
                if (cond == 304) {
                    Reply nm = new Reply(304);
                    nm.header("ETag", quote(i.etag())).header("Last-Modified", r.headers.get("Last-Modified"));
                    return nm;
                }
                throw S3Error.preconditionFailed();
            }
            r.header("Accept-Ranges", "bytes");
            i.headers().forEach((k, v) -> r.header(k, v));
            if (!i.headers().containsKey("content-type")) {
                r.header("Content-Type", "binary/octet-stream");
            }
            for (String name : STORED_HEADERS) {
                String override = c.param("response-" + name);
                if (override != null) {
                    r.header(name, override);
                }
            }
            long len = i.length();
            long from = 0;
            long to = len;
            if (range != null) {
                long[] rg = parseRange(range, len);
                if (rg != null) {
                    if (rg[0] < 0) {
                        S3Error e = new S3Error(416, "InvalidRange", "The requested range is not satisfiable");
                        throw new RangeError(e, len);
                    }
                    from = rg[0];
                    to = rg[1] + 1;
                    Reply pr = new Reply(206);
                    pr.headers.putAll(r.headers);
                    pr.header("Content-Range", "bytes " + from + "-" + rg[1] + "/" + len);
                    return open(pr, i, from, to, h);
                }
            }
            return open(r, i, from, to, h);
        }
    }

    /** A 416 that carries the object's length for its Content-Range. */
    static final class RangeError extends S3Error {
        private static final long serialVersionUID = 1L;
        final long length;

        RangeError(S3Error e, long length) {
            super(e.status, e.code, e.getMessage());
            this.length = length;
        }
    }

    /** The reply streams [from, to) of the open file; a HEAD (no handle) sends the length only. */
    private static Reply open(Reply r, ObjectStore.Info i, long from, long to, FileHandle h) {
        r.from = from;
        r.to = to;
        if (i.marker() || h == null) {
            r.stream = null;
            r.header("Content-Length", Long.toString(i.marker() ? 0 : to - from));
            return r;
        }
        r.stream = h;
        return r;
    }

    /** bytes=a-b, bytes=a-, bytes=-n: [first, last] inclusive; {-1} if unsatisfiable; null to ignore. */
    static long[] parseRange(String h, long len) {
        String s = h.trim();
        if (!s.startsWith("bytes=") || s.contains(",")) {
            return null;
        }
        s = s.substring(6).trim();
        int dash = s.indexOf('-');
        if (dash < 0) {
            return null;
        }
        try {
            String a = s.substring(0, dash).trim();
            String b = s.substring(dash + 1).trim();
            if (a.isEmpty()) {
                long n = Long.parseLong(b);
                if (n <= 0 || len == 0) {
                    return new long[] {-1};
                }
                return new long[] {Math.max(0, len - n), len - 1};
            }
            long first = Long.parseLong(a);
            long last = b.isEmpty() ? len - 1 : Math.min(Long.parseLong(b), len - 1);
            if (!b.isEmpty() && Long.parseLong(b) < first) {
                return null;
            }
            if (first >= len) {
                return new long[] {-1};
            }
            return new long[] {first, last};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** RFC 7232 as S3 applies it: null to serve, 304 or 412. */
    private static Integer conditions(Call c, ObjectStore.Info i) {
        String ifMatch = c.header("If-Match");
        String ifNoneMatch = c.header("If-None-Match");
        Instant ims = httpDate(c.header("If-Modified-Since"));
        Instant ius = httpDate(c.header("If-Unmodified-Since"));
        Instant mtime = Instant.ofEpochSecond(i.mtimeNs() / 1_000_000_000L);
        if (ifMatch != null) {
            if (!etagMatches(ifMatch, i.etag())) {
                return 412;
            }
        } else if (ius != null && mtime.isAfter(ius)) {
            return 412;
        }
        if (ifNoneMatch != null) {
            if (etagMatches(ifNoneMatch, i.etag())) {
                return 304;
            }
        } else if (ims != null && !mtime.isAfter(ims)) {
            return 304;
        }
        return null;
    }

    static boolean etagMatches(String header, String etag) {
        for (String t : header.split(",")) {
            String v = t.trim();
            if (v.startsWith("W/")) {
                v = v.substring(2);
            }
            v = v.replace("\"", "");
            if (v.equals("*") || v.equals(etag)) {
                return true;
            }
        }
        return false;
    }

    private static Instant httpDate(String v) {
        if (v == null) {
            return null;
        }
        try {
            return ZonedDateTime.parse(v.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    static String quote(String etag) {
        return "\"" + etag + "\"";
    }

    /** "/bucket/key" (URL-encoded, optionally ?versionId=…) of x-amz-copy-source. */
    static String[] copySource(String header) throws S3Error {
        String s = header;
        int q = s.indexOf('?');
        if (q >= 0) {
            String rest = s.substring(q + 1);
            if (rest.startsWith("versionId=") && !rest.equals("versionId=null")) {
                throw S3Error.notImplemented("x-amz-copy-source with a versionId");
            }
            s = s.substring(0, q);
        }
        s = Keys.uriDecode(s, false);
        if (s.startsWith("/")) {
            s = s.substring(1);
        }
        int slash = s.indexOf('/');
        if (slash <= 0 || slash == s.length() - 1) {
            throw S3Error.invalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey");
        }
        String bucket = s.substring(0, slash);
        String key = s.substring(slash + 1);
        Keys.checkBucket(bucket);
        Keys.checkKey(key);
        return new String[] {bucket, key};
    }

    private Integer copyConditions(Call c, ObjectStore.Info i) {
        String im = c.header("x-amz-copy-source-if-match");
        String inm = c.header("x-amz-copy-source-if-none-match");
        Instant ims = httpDate(c.header("x-amz-copy-source-if-modified-since"));
        Instant ius = httpDate(c.header("x-amz-copy-source-if-unmodified-since"));
        Instant mtime = Instant.ofEpochSecond(i.mtimeNs() / 1_000_000_000L);
        if (im != null && !etagMatches(im, i.etag())) {
            return 412;
        }
        if (im == null && ius != null && mtime.isAfter(ius)) {
            return 412;
        }
        if (inm != null && etagMatches(inm, i.etag())) {
            return 412;
        }
        if (inm == null && ims != null && !mtime.isAfter(ims)) {
            return 412;
        }
        return null;
    }

    private void copyObject(Call c, String source) throws S3Error {
        String[] src = copySource(source);
        read(c, src[0]);
        String directive = c.header("x-amz-metadata-directive");
        if (directive != null && !directive.equals("COPY") && !directive.equals("REPLACE")) {
            throw S3Error.invalidArgument("Unknown metadata directive " + directive);
        }
        boolean replace = "REPLACE".equals(directive);
        if (src[0].equals(c.bucket) && src[1].equals(c.key) && !replace) {
            throw S3Error.invalidRequest("This copy request is illegal because it is trying to copy an object to "
                    + "itself without changing the object's metadata, storage class, website redirect location "
                    + "or encryption attributes.");
        }
        Map<String, String> headers = replace ? objectHeaders(c) : null;
        readBody(c, body -> blocking(c, () -> {
            long sb = store.bucket(src[0]);
            long db = store.bucket(c.bucket);
            ObjectStore.Info si = store.stat(sb, src[1]);
            if (copyConditions(c, si) != null) {
                throw S3Error.preconditionFailed();
            }
            ObjectStore.Info i = store.copy(sb, src[1], db, c.key, headers);
            return xml(200, Xml.doc("CopyObjectResult").elem("LastModified", Xml.time(i.mtimeNs()))
                    .elem("ETag", quote(i.etag())).toString());
        }));
    }

    private void uploadPartCopy(Call c, String uploadId, int n, String source) throws S3Error {
        String[] src = copySource(source);
        read(c, src[0]);
        String range = c.header("x-amz-copy-source-range");
        readBody(c, body -> blocking(c, () -> {
            long sb = store.bucket(src[0]);
            store.bucket(c.bucket);
            Multipart.Upload u = multipart.get(uploadId, c.bucket, c.key);
            ObjectStore.Info si = store.stat(sb, src[1]);
            if (copyConditions(c, si) != null) {
                throw S3Error.preconditionFailed();
            }
            Multipart.Part p;
            if (range == null) {
                p = multipart.copyPart(u, n, si);
            } else {
                long[] rg = parseRange(range, si.length());
                if (rg == null || rg[0] < 0 || range.trim().startsWith("bytes=-")) {
                    throw new S3Error(400, "InvalidArgument", "The x-amz-copy-source-range value must be of the form "
                            + "bytes=first-last where first and last are the zero-based offsets of the first and "
                            + "last bytes to copy, within the object");
                }
                p = multipart.copyPartRange(u, n, si, rg[0], rg[1]);
            }
            return xml(200, Xml.doc("CopyPartResult").elem("LastModified", Xml.time(p.mtimeNs()))
                    .elem("ETag", quote(p.etag())).toString());
        }));
    }

    private void complete(Call c, String uploadId, byte[] body) throws S3Error {
        Element root = Xml.parse(body);
        if (!Xml.local(root).equals("CompleteMultipartUpload")) {
            throw S3Error.malformedXml("expected CompleteMultipartUpload");
        }
        List<Multipart.Wanted> wanted = new ArrayList<>();
        for (Element p : Xml.children(root, "Part")) {
            String n = Xml.text(p, "PartNumber");
            if (n == null) {
                throw S3Error.malformedXml("a Part without PartNumber");
            }
            wanted.add(new Multipart.Wanted(Multipart.partNumber(n), Xml.text(p, "ETag")));
        }
        // Assembling copies the parts' bytes: if that takes long, answer 200 early and keep the connection
        // alive with whitespace, as S3 does; the result (or an Error) follows in the body.
        long[] timer = new long[1];
        boolean[] finished = new boolean[1];
        timer[0] = vertx.setPeriodic(keepAliveMs, id -> {
            if (finished[0] || c.resp.closed()) {
                vertx.cancelTimer(id);
                return;
            }
            if (!c.resp.headWritten()) {
                c.resp.setStatusCode(200).setChunked(true).putHeader("Content-Type", "application/xml");
                c.resp.write("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
            } else {
                c.resp.write(" ");
            }
        });
        workers.executeBlocking(() -> {
            long b = store.bucket(c.bucket);
            Multipart.Upload u = multipart.get(uploadId, c.bucket, c.key);
            return multipart.complete(u, b, wanted);
        }, false).onComplete(ar -> {
            finished[0] = true;
            vertx.cancelTimer(timer[0]);
            if (ar.failed()) {
                fail(c, asS3(ar.cause()));
                return;
            }
            ObjectStore.Info i = ar.result();
            String xml = Xml.doc("CompleteMultipartUploadResult").elem("Location", "/" + c.bucket + "/" + c.key)
                    .elem("Bucket", c.bucket).elem("Key", c.key).elem("ETag", quote(i.etag())).toString();
            if (c.resp.headWritten()) {
                c.resp.end(xml.substring(xml.indexOf('\n') + 1));
            } else {
                send(c, xml(200, xml));
            }
        });
    }

    // ---- listings

    private Reply listBuckets(Call c) {
        blocking(c, () -> {
            Xml x = Xml.doc("ListAllMyBucketsResult").start("Owner").elem("ID", "hangar").elem("DisplayName", "hangar")
                    .end().start("Buckets");
            for (ObjectStore.Bucket b : store.buckets()) {
                if (c.auth.key().canRead(b.name())) {
                    x.start("Bucket").elem("Name", b.name()).elem("CreationDate", Xml.time(b.ctimeNs())).end();
                }
            }
            return xml(200, x.end().toString());
        });
        return null;
    }

    private static int maxKeys(String v, int dflt) throws S3Error {
        if (v == null) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= 0) {
                return Math.min(n, 1000);
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw S3Error.invalidArgument("max-keys must be a non-negative integer");
    }

    private static boolean urlEncoding(Call c) throws S3Error {
        String e = c.param("encoding-type");
        if (e == null) {
            return false;
        }
        if (!e.equals("url")) {
            throw S3Error.invalidArgument("Invalid Encoding Method specified in Request");
        }
        return true;
    }

    private static String enc(String s, boolean url) {
        return s == null ? null : url ? Keys.uriEncode(s, true) : s;
    }

    private Reply listV2(Call c) throws S3Error, FsException {
        long b = store.bucket(c.bucket);
        boolean url = urlEncoding(c);
        String prefix = c.param("prefix");
        String delimiter = c.param("delimiter");
        int max = maxKeys(c.param("max-keys"), 1000);
        String token = c.param("continuation-token");
        String startAfter = c.param("start-after");
        String after = startAfter;
        if (token != null) {
            try {
                after = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw S3Error.invalidArgument("The continuation token provided is incorrect");
            }
        }
        Lister.Page page = Lister.list(store, b, prefix, delimiter, max, after);
        boolean owner = "true".equals(c.param("fetch-owner"));
        Xml x = Xml.doc("ListBucketResult").elem("Name", c.bucket).elem("Prefix", enc(prefix == null ? "" : prefix, url))
                .elem("Delimiter", enc(delimiter, url)).elem("MaxKeys", max).elem("EncodingType", url ? "url" : null)
                .elem("KeyCount", page.items().size()).elem("IsTruncated", page.truncated())
                .elem("ContinuationToken", token).elem("StartAfter", enc(startAfter, url));
        if (page.truncated()) {
            x.elem("NextContinuationToken", Base64.getUrlEncoder().withoutPadding()
                    .encodeToString(page.last().getBytes(StandardCharsets.UTF_8)));
        }
        contents(x, page, url, owner);
        return xml(200, x.toString());
    }

    private Reply listV1(Call c) throws S3Error, FsException {
        long b = store.bucket(c.bucket);
        boolean url = urlEncoding(c);
        String prefix = c.param("prefix");
        String delimiter = c.param("delimiter");
        int max = maxKeys(c.param("max-keys"), 1000);
        String marker = c.param("marker");
        Lister.Page page = Lister.list(store, b, prefix, delimiter, max, marker);
        Xml x = Xml.doc("ListBucketResult").elem("Name", c.bucket).elem("Prefix", enc(prefix == null ? "" : prefix, url))
                .elem("Marker", enc(marker == null ? "" : marker, url)).elem("Delimiter", enc(delimiter, url))
                .elem("MaxKeys", max).elem("EncodingType", url ? "url" : null).elem("IsTruncated", page.truncated());
        if (page.truncated()) {
            x.elem("NextMarker", enc(page.last(), url));
        }
        contents(x, page, url, true);
        return xml(200, x.toString());
    }

    private static void contents(Xml x, Lister.Page page, boolean url, boolean owner) {
        for (Lister.Item i : page.items()) {
            if (i.prefix()) {
                x.start("CommonPrefixes").elem("Prefix", enc(i.key(), url)).end();
            } else {
                x.start("Contents").elem("Key", enc(i.key(), url)).elem("LastModified", Xml.time(i.info().mtimeNs()))
                        .elem("ETag", quote(i.info().etag())).elem("Size", i.info().length())
                        .elem("StorageClass", "STANDARD");
                if (owner) {
                    x.start("Owner").elem("ID", "hangar").elem("DisplayName", "hangar").end();
                }
                x.end();
            }
        }
    }

    private Reply listUploads(Call c) throws S3Error, FsException {
        store.bucket(c.bucket);
        boolean url = urlEncoding(c);
        String prefix = c.param("prefix") == null ? "" : c.param("prefix");
        String delimiter = c.param("delimiter");
        String keyMarker = c.param("key-marker");
        String idMarker = c.param("upload-id-marker");
        int max = maxKeys(c.param("max-uploads"), 1000);
        List<Multipart.Upload> all = multipart.uploads();
        Xml x = Xml.doc("ListMultipartUploadsResult").elem("Bucket", c.bucket)
                .elem("KeyMarker", enc(keyMarker == null ? "" : keyMarker, url))
                .elem("UploadIdMarker", idMarker == null ? "" : idMarker).elem("Prefix", enc(prefix, url))
                .elem("Delimiter", enc(delimiter, url)).elem("MaxUploads", max)
                .elem("EncodingType", url ? "url" : null);
        List<Multipart.Upload> shown = new ArrayList<>();
        List<String> prefixes = new ArrayList<>();
        boolean truncated = false;
        for (Multipart.Upload u : all) {
            if (!u.bucket().equals(c.bucket) || !u.key().startsWith(prefix)) {
                continue;
            }
            if (keyMarker != null) {
                int cmp = Keys.compare(u.key(), keyMarker);
                if (cmp < 0 || (cmp == 0 && (idMarker == null || u.id().compareTo(idMarker) <= 0))) {
                    continue;
                }
            }
            if (delimiter != null && !delimiter.isEmpty()) {
                int i = u.key().indexOf(delimiter, prefix.length());
                if (i >= 0) {
                    String cp = u.key().substring(0, i + delimiter.length());
                    if (!prefixes.contains(cp)) {
                        if (shown.size() + prefixes.size() >= max) {
                            truncated = true;
                            break;
                        }
                        prefixes.add(cp);
                    }
                    continue;
                }
            }
            if (shown.size() + prefixes.size() >= max) {
                truncated = true;
                break;
            }
            shown.add(u);
        }
        if (truncated && !shown.isEmpty()) {
            Multipart.Upload last = shown.get(shown.size() - 1);
            x.elem("NextKeyMarker", enc(last.key(), url)).elem("NextUploadIdMarker", last.id());
        }
        x.elem("IsTruncated", truncated);
        for (Multipart.Upload u : shown) {
            x.start("Upload").elem("Key", enc(u.key(), url)).elem("UploadId", u.id())
                    .start("Initiator").elem("ID", "hangar").elem("DisplayName", "hangar").end()
                    .start("Owner").elem("ID", "hangar").elem("DisplayName", "hangar").end()
                    .elem("StorageClass", "STANDARD").elem("Initiated", Xml.time(u.initiatedNs())).end();
        }
        for (String p : prefixes) {
            x.start("CommonPrefixes").elem("Prefix", enc(p, url)).end();
        }
        return xml(200, x.toString());
    }

    private Reply listParts(Call c, String uploadId) throws S3Error {
        store.bucket(c.bucket);
        Multipart.Upload u = multipart.get(uploadId, c.bucket, c.key);
        int max = maxKeys(c.param("max-parts"), 1000);
        int marker = 0;
        if (c.param("part-number-marker") != null) {
            try {
                marker = Integer.parseInt(c.param("part-number-marker"));
            } catch (NumberFormatException e) {
                throw S3Error.invalidArgument("part-number-marker must be an integer");
            }
        }
        List<Multipart.Part> parts = multipart.parts(u);
        Xml x = Xml.doc("ListPartsResult").elem("Bucket", c.bucket).elem("Key", c.key).elem("UploadId", u.id())
                .start("Initiator").elem("ID", "hangar").elem("DisplayName", "hangar").end()
                .start("Owner").elem("ID", "hangar").elem("DisplayName", "hangar").end()
                .elem("StorageClass", "STANDARD").elem("PartNumberMarker", marker).elem("MaxParts", max);
        List<Multipart.Part> shown = new ArrayList<>();
        boolean truncated = false;
        for (Multipart.Part p : parts) {
            if (p.number() <= marker) {
                continue;
            }
            if (shown.size() >= max) {
                truncated = true;
                break;
            }
            shown.add(p);
        }
        if (!shown.isEmpty()) {
            x.elem("NextPartNumberMarker", shown.get(shown.size() - 1).number());
        }
        x.elem("IsTruncated", truncated);
        for (Multipart.Part p : shown) {
            x.start("Part").elem("PartNumber", p.number()).elem("LastModified", Xml.time(p.mtimeNs()))
                    .elem("ETag", quote(p.etag())).elem("Size", p.size()).end();
        }
        return xml(200, x.toString());
    }

    private Reply deleteObjects(Call c, byte[] body) throws S3Error {
        if (c.header("Content-MD5") == null && c.header("x-amz-checksum-crc32") == null
                && c.header("x-amz-checksum-crc32c") == null && c.header("x-amz-checksum-sha256") == null
                && c.header("x-amz-checksum-sha1") == null && c.header("x-amz-checksum-crc64nvme") == null
                && c.header("x-amz-sdk-checksum-algorithm") == null) {
            // S3 requires an integrity header on DeleteObjects; the SHA-256 of SigV4 covers it as well.
            if (c.auth.bodySha256() == null) {
                throw S3Error.invalidRequest("Missing required header for this request: Content-MD5");
            }
        }
        Element root = Xml.parse(body);
        if (!Xml.local(root).equals("Delete")) {
            throw S3Error.malformedXml("expected Delete");
        }
        boolean quiet = "true".equalsIgnoreCase(Xml.text(root, "Quiet"));
        List<Element> objects = Xml.children(root, "Object");
        if (objects.size() > 1000) {
            throw S3Error.malformedXml("more than 1000 objects");
        }
        long b = store.bucket(c.bucket);
        Xml x = Xml.doc("DeleteResult");
        for (Element o : objects) {
            String key = Xml.children(o, "Key").isEmpty() ? null : Xml.children(o, "Key").get(0).getTextContent();
            if (key == null) {
                throw S3Error.malformedXml("an Object without Key");
            }
            try {
                store.delete(b, key);
                if (!quiet) {
                    x.start("Deleted").elem("Key", key).end();
                }
            } catch (S3Error e) {
                x.start("Error").elem("Key", key).elem("Code", e.code).elem("Message", e.getMessage()).end();
            }
        }
        return xml(200, x.toString());
    }

    // ---- parsing

    static List<Map.Entry<String, String>> parseQuery(String raw) throws S3Error {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String p : raw.split("&")) {
            if (p.isEmpty()) {
                continue;
            }
            int eq = p.indexOf('=');
            String k = Keys.uriDecode(eq < 0 ? p : p.substring(0, eq), true);
            String v = eq < 0 ? "" : Keys.uriDecode(p.substring(eq + 1), true);
            out.add(new AbstractMap.SimpleImmutableEntry<>(k, v));
        }
        return out;
    }
}
