package io.hangar.frontend.http.s3;

import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.spi.frontend.Endpoint;
import io.hangar.vfs.Volume;
import io.hangar.frontend.http.repo.RepositoryApi;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.BindException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * One S3 gateway: a Vert.x HTTP server (its own event loops and a worker pool for volume I/O) serving one
 * volume. The router sends everything to the S3 handler today; the REST API of a later release gets a route
 * of its own in front of it.
 */
final class S3Gateway implements Endpoint {
    private static final Logger LOG = Logger.getLogger(S3Gateway.class.getName());
    static final String KIND = "s3";
    private static final long SWEEP_MS = 3_600_000;

    private final Volume volume;
    private final GatewaySpec spec;
    private final Vertx vertx;
    private final WorkerExecutor workers;
    private final HttpServer server;
    private final String address;
    private final CompletableFuture<Void> ended = new CompletableFuture<>();
    private final long sweeper;
    private final GatewayMetrics metrics;
    private volatile boolean active = true;
    private final RepositoryApi api;
    /** Set once at start: repository users' S3 keys are checked by its handler. */
    private S3Handler handler;
    private Budget budget;
    private Budget smallBodies;
    private Connections connections;

    private S3Gateway(Volume volume, GatewaySpec spec, Vertx vertx, WorkerExecutor workers, HttpServer server,
            long sweeper, GatewayMetrics metrics, RepositoryApi api) {
        this.metrics = metrics;
        this.api = api;
        this.volume = volume;
        this.spec = spec;
        this.vertx = vertx;
        this.workers = workers;
        this.server = server;
        this.sweeper = sweeper;
        String host = spec.host().contains(":") ? "[" + spec.host() + "]" : spec.host();
        this.address = "http://" + host + ":" + server.actualPort();
    }

    static S3Gateway start(Volume volume, GatewaySpec spec, Map<String, String> env, MeterRegistry meters)
            throws FsException {
        Credentials creds;
        try {
            creds = Credentials.load(spec.credentials(), env);
        } catch (IOException e) {
            throw new FsException(Errno.EINVAL, "cannot read the credentials file " + spec.credentials() + ": "
                    + e.getMessage());
        }
        if (creds.empty()) {
            throw new FsException(Errno.EINVAL, "no S3 credentials: set " + Credentials.ENV_ACCESS + " and "
                    + Credentials.ENV_SECRET + ", or give a credentials file");
        }
        ObjectStore store = new ObjectStore(volume, spec.readOnly());
        Thread t = Thread.currentThread();
        ClassLoader before = t.getContextClassLoader();
        // Vert.x finds its service providers through the context class loader: ours sees the embedded jars.
        t.setContextClassLoader(S3Gateway.class.getClassLoader());
        Vertx vertx = null;
        try {
            vertx = Vertx.vertx(new VertxOptions().setFileSystemOptions(new FileSystemOptions()
                    .setClassPathResolvingEnabled(false).setFileCachingEnabled(false))
                    .setMaxWorkerExecuteTime(1).setMaxWorkerExecuteTimeUnit(TimeUnit.DAYS)
                    .setBlockedThreadCheckInterval(10).setBlockedThreadCheckIntervalUnit(TimeUnit.SECONDS));
            WorkerExecutor workers = vertx.createSharedWorkerExecutor("hangar-s3-" + volume.name(), spec.workers(),
                    1, TimeUnit.DAYS);
            Budget budget = new Budget(spec.bufferBytes());
            Budget smallBodies = new Budget(S3Handler.SMALL_BODIES);
            Connections connections = new Connections(spec.maxConnections());
            GatewayMetrics metrics = new GatewayMetrics(meters, volume.name(), spec.host() + ":" + spec.port(),
                    budget, connections);
            S3Handler handler = new S3Handler(vertx, workers, store, new SigV4(creds, spec.maxSkew()), spec.region(),
                    spec.keepAliveMs(), budget, smallBodies, spec.domain(), metrics);
            Router router = Router.router(vertx);
            // The repository API has its prefix; "api" is no valid team (bucket) name, so no S3 path collides.
            RepositoryApi api = new RepositoryApi(vertx, workers, volume, budget, smallBodies, spec.apiTokenFile(),
                    TimeUnit.DAYS.toMillis(spec.trashDays()));
            router.route(RepositoryApi.PREFIX + "/*").subRouter(api.router());
            router.route().handler(rc -> handler.handle(rc.request()));
            HttpServerOptions opts = new HttpServerOptions().setHost(spec.host()).setPort(spec.port())
                    .setHandle100ContinueAutomatically(false).setMaxHeaderSize(64 * 1024)
                    .setMaxInitialLineLength(16 * 1024).setMaxChunkSize(64 * 1024).setCompressionSupported(false)
                    .setDecompressionSupported(false).setIdleTimeout(300).setIdleTimeoutUnit(TimeUnit.SECONDS)
                    .setTcpNoDelay(true);
            HttpServer server;
            try {
                server = vertx.createHttpServer(opts).connectionHandler(connections::opened)
                        .requestHandler(req -> {
                            if (!connections.refuse(req)) {
                                router.handle(req);
                            }
                        })
                        .invalidRequestHandler(S3Gateway::invalid).listen().await();
            } catch (Exception e) {
                metrics.close();
                Throwable cause = e;
                while (cause.getCause() != null && !(cause instanceof BindException)) {
                    cause = cause.getCause();
                }
                throw new FsException(cause instanceof BindException ? Errno.EBUSY : Errno.EINVAL,
                        "cannot listen on " + spec.host() + ":" + spec.port() + ": " + cause.getMessage());
            }
            Multipart mp = handler.multipart();
            long nanosMaxAge = spec.uploadMaxAge().toNanos();
            long tmpAge = TimeUnit.HOURS.toNanos(24);
            if (!spec.readOnly()) {
                workers.executeBlocking(() -> mp.sweep(nanosMaxAge, tmpAge), false);
            }
            long sweeper = spec.readOnly() ? -1 : vertx.setPeriodic(SWEEP_MS,
                    id -> workers.executeBlocking(() -> mp.sweep(nanosMaxAge, tmpAge), false));
            S3Gateway g = new S3Gateway(volume, spec, vertx, workers, server, sweeper, metrics, api);
            g.handler = handler;
            g.budget = budget;
            g.smallBodies = smallBodies;
            g.connections = connections;
            LOG.info("S3 gateway for volume " + volume.name() + " listening on " + g.address());
            return g;
        } catch (FsException | RuntimeException e) {
            if (vertx != null) {
                vertx.close();
            }
            throw e;
        } finally {
            t.setContextClassLoader(before);
        }
    }

    /**
     * A request Netty could not parse (a header section or request line past the limits, a malformed line):
     * an S3 error body instead of Vert.x's empty 4xx, then the connection closes.
     */
    static void invalid(io.vertx.core.http.HttpServerRequest req) {
        Throwable cause = req.decoderResult().cause();
        String code = "InvalidRequest";
        int status = 400;
        String message = "The request could not be parsed: " + (cause == null ? "malformed" : cause.getMessage());
        if (cause instanceof io.netty.handler.codec.TooLongFrameException) {
            String m = String.valueOf(cause.getMessage());
            if (m.contains("header")) {
                code = "RequestHeaderSectionTooLarge";
                message = "Your request header section exceeds the maximum allowed size (64 KiB).";
            } else {
                status = 414;
                code = "RequestURITooLong";
                message = "The request line is longer than 16 KiB.";
            }
        }
        answerAndClose(req, status, code, message);
    }

    /** An S3 error body for a request the handler never sees, then the connection closes. */
    static void answerAndClose(io.vertx.core.http.HttpServerRequest req, int status, String code, String message) {
        byte[] body = Xml.error(code, message, req.path() == null ? "/" : req.path(), "0")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (status == 503) {
            req.response().putHeader("Retry-After", "1");
        }
        req.response().setStatusCode(status).putHeader("Content-Type", "application/xml")
                .putHeader("Connection", "close").end(io.vertx.core.buffer.Buffer.buffer(body))
                .onComplete(v -> req.connection().close());
    }

    /** Serves the model repository kept in {@code store} under {@link RepositoryApi#PREFIX} (null: none). */
    void repository(io.hangar.spi.repo.RepositoryStore store) {
        api.attach(store);
        handler.repository(store, spec.apiTokenFile());
    }

    /** The bytes of bodies its requests hold (for tests and the buffered gauge). */
    Budget budget() {
        return budget;
    }

    /** What the XML and JSON bodies being read whole hold (for tests). */
    Budget smallBodies() {
        return smallBodies;
    }

    Connections connections() {
        return connections;
    }

    int port() {
        return server.actualPort();
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public String volume() {
        return volume.name();
    }

    @Override
    public String address() {
        return address;
    }

    @Override
    public boolean readOnly() {
        return spec.readOnly();
    }

    @Override
    public String subdir() {
        return "/";
    }

    @Override
    public boolean active() {
        return active;
    }

    @Override
    public CompletionStage<Void> ended() {
        return ended;
    }

    /** Stops listening, lets requests in flight end (up to 30 s), then stops Vert.x. */
    @Override
    public synchronized void close() throws FsException {
        if (!active) {
            return;
        }
        active = false;
        try {
            if (sweeper >= 0) {
                vertx.cancelTimer(sweeper);
            }
            server.shutdown(30, TimeUnit.SECONDS).toCompletionStage().toCompletableFuture().get(40, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warning("S3 gateway " + address + ": " + e.getMessage());
        }
        try {
            workers.close();
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warning("stopping Vert.x of " + address + ": " + e.getMessage());
        }
        metrics.close();
        LOG.info("S3 gateway " + address + " stopped");
        ended.complete(null);
    }
}
