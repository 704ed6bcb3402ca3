package io.hangar.frontend.http.repo;

import io.hangar.fs.Caller;
import io.hangar.fs.Entry;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.fs.OpenFlags;
import io.hangar.spi.repo.RepositoryStore;
import io.hangar.vfs.FileHandle;
import io.hangar.vfs.Volume;
import io.vertx.core.Future;
import io.hangar.frontend.http.s3.Budget;
import io.hangar.frontend.http.s3.Pieces;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The repository's REST API under {@code /api/v1} (described by {@code /api/v1/openapi.yaml}, which it serves):
 * JSON in and out, a bearer token per request, errors as {@code {"code": …, "message": …}}. Every handler runs
 * on the gateway's workers; file bodies stream to and from the volume with back-pressure, never whole in memory.
 * Until the volume's repository store is there, every call answers 503.
 */
public final class RepositoryApi {
    private static final Logger LOG = Logger.getLogger(RepositoryApi.class.getName());
    public static final String PREFIX = "/api/v1";
    private static final int JSON_LIMIT = 1 << 20;
    private static final int PIECE = 1 << 20;
    /** Bytes of one upload queued for the volume before the request is paused. */
    private static final long HIGH_WATER = 8L << 20;
    /** Bytes of a body gathered for one volume write. */
    private static final int BATCH = 1 << 20;

    private final Vertx vertx;
    private final WorkerExecutor workers;
    private final Volume volume;
    private final AtomicReference<Repository> repository = new AtomicReference<>();
    private final String tokenFile;
    private final long trashKeepMs;
    private long expiryTimer = -1;
    /** How often expired trash entries are purged. */
    private static final long EXPIRY_EVERY_MS = 3_600_000;

    /** The gateway's memory for bodies: downloads read ahead of their connections, and JSON bodies. */
    private final Budget bodies;
    private final Budget smallBodies;

    /**
     * {@code bodies}, {@code smallBodies}: the gateway's budgets (a download reads only what fits in the first,
     * a JSON body is refused with 503 past the second); {@code tokenFile}: where the first administrator token is written on first start (null: only logged);
     * {@code trashKeepMs}: how long trashed versions and files are kept before they are purged.
     */
    public RepositoryApi(Vertx vertx, WorkerExecutor workers, Volume volume, Budget bodies, Budget smallBodies,
            String tokenFile, long trashKeepMs) {
        this.bodies = bodies;
        this.smallBodies = smallBodies;
        this.vertx = vertx;
        this.workers = workers;
        this.volume = volume;
        this.tokenFile = tokenFile;
        this.trashKeepMs = trashKeepMs;
    }

    /** Purges expired trash now and then every {@link #EXPIRY_EVERY_MS}, at most 1,000 entries a round. */
    private synchronized void scheduleExpiry() {
        if (expiryTimer >= 0) {
            return;
        }
        Runnable round = () -> workers.executeBlocking(() -> {
            Repository r = repository.get();
            if (r != null) {
                int n = r.expireTrash(System.currentTimeMillis(), 1000);
                if (n > 0) {
                    LOG.info("repository of volume " + volume.name() + ": purged " + n + " expired trash entries");
                }
            }
            return null;
        }, false).onFailure(t -> LOG.warning("trash expiry: " + t.getMessage()));
        round.run();
        expiryTimer = vertx.setPeriodic(EXPIRY_EVERY_MS, id -> round.run());
    }

    /** Serves the repository kept in {@code store} (null: none, every call answers 503). */
    public void attach(RepositoryStore store) {
        if (store == null) {
            repository.set(null);
            return;
        }
        Repository r = new Repository(store, volume);
        workers.executeBlocking(() -> {
            Optional<String> first = r.bootstrap();
            first.ifPresent(this::writeFirstToken);
            repository.set(r);
            scheduleExpiry();
            return null;
        }, false).onFailure(t -> LOG.log(Level.SEVERE, "repository of volume " + volume.name() + ": " + t.getMessage()));
    }

    private void writeFirstToken(String token) {
        if (tokenFile == null) {
            LOG.warning("repository of volume " + volume.name() + ": administrator 'admin' created; token " + token);
            return;
        }
        try {
            java.nio.file.Path f = java.nio.file.Path.of(tokenFile);
            java.nio.file.Files.createDirectories(f.getParent());
            // Whole or not at all: whoever waits for the file (./hangar up's user, a test) never reads it half
            // written. Private from its first byte.
            java.nio.file.Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
            java.nio.file.Files.deleteIfExists(tmp);
            try {
                java.nio.file.Files.createFile(tmp, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException notPosix) {
                java.nio.file.Files.createFile(tmp);
            }
            java.nio.file.Files.writeString(tmp, token + "\n");
            java.nio.file.Files.move(tmp, f, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            LOG.info("repository of volume " + volume.name() + ": administrator 'admin' created; token in " + f);
        } catch (IOException e) {
            LOG.warning("cannot write " + tokenFile + " (" + e.getMessage() + "); admin token " + token);
        }
    }

    /** The routes, for the gateway's router to mount at {@link #PREFIX}. */
    public Router router() {
        Router r = Router.router(vertx);
        BodyHandler json = BodyHandler.create(false).setBodyLimit(JSON_LIMIT);
        // Before the body is read (a platform handler runs ahead of the body handler): counted, or refused.
        io.vertx.ext.web.handler.PlatformHandler gate = this::admitBody;
        r.get("/openapi.yaml").handler(this::openapi);
        r.get("/whoami").handler(rc -> call(rc, (repo, who) -> repo.whoami(who)));
        r.post("/users").handler(gate).handler(json).handler(rc -> call(rc, (repo, who) -> {
            JsonObject b = body(rc);
            return repo.createUser(who, b.getString("name"), b.getBoolean("siteAdmin", false));
        }));
        r.post("/users/:user/tokens").handler(gate).handler(json).handler(rc -> call(rc, (repo, who) -> {
            JsonObject b = body(rc);
            return repo.issueToken(who, rc.pathParam("user"), b.getString("team"), b.getString("model"));
        }));
        r.get("/teams").handler(rc -> call(rc, (repo, who) -> repo.teams(who)));
        r.post("/teams").handler(gate).handler(json).handler(rc -> call(rc, (repo, who) -> repo.createTeam(who, body(rc).getString("name"))));
        r.get("/teams/:team/members").handler(rc -> call(rc, (repo, who) -> repo.members(who, rc.pathParam("team"))));
        r.put("/teams/:team/members/:user").handler(gate).handler(json).handler(rc -> call(rc, (repo, who) -> repo.setRole(who,
                rc.pathParam("team"), rc.pathParam("user"), Role.parse(body(rc).getString("role")))));
        r.delete("/teams/:team/members/:user").handler(rc -> call(rc, (repo, who) -> repo.setRole(who,
                rc.pathParam("team"), rc.pathParam("user"), null)));
        r.post("/teams/:team/dedup").handler(gate).handler(json).handler(rc -> call(rc, (repo, who) -> new JsonObject()
                .put("known", repo.knownMd5s(who, rc.pathParam("team"), body(rc).getJsonArray("md5")))));
        r.post("/teams/:team/sizes").handler(gate).handler(json).handler(rc -> call(rc, (repo, who) -> new JsonObject()
                .put("known", repo.knownSizes(who, rc.pathParam("team"), body(rc).getJsonArray("sizes")))));
        String m = "/teams/:team/models";
        r.get(m).handler(rc -> call(rc, (repo, who) -> repo.models(who, rc.pathParam("team"))));
        r.post(m).handler(gate).handler(json).handler(rc -> call(rc, (repo, who) -> repo.createModel(who, rc.pathParam("team"),
                body(rc).getString("name"))));
        String v = m + "/:model/versions";
        r.get(v).handler(rc -> call(rc, (repo, who) -> repo.versions(who, rc.pathParam("team"), rc.pathParam("model"))));
        r.post(v).handler(gate).handler(json).handler(rc -> call(rc, (repo, who) -> {
            JsonObject b = body(rc);
            return repo.createVersion(who, rc.pathParam("team"), rc.pathParam("model"),
                    b.getValue("from") == null ? null : String.valueOf(b.getValue("from")), b.getJsonObject("labels"));
        }));
        r.get(v + "/:ref").handler(rc -> call(rc, (repo, who) -> repo.version(who, rc.pathParam("team"),
                rc.pathParam("model"), rc.pathParam("ref"))));
        r.get(v + "/:ref/manifest").handler(rc -> call(rc, (repo, who) -> repo.manifest(who, rc.pathParam("team"),
                rc.pathParam("model"), rc.pathParam("ref"), rc.queryParams().get("after"),
                intParam(rc, "limit", 1000))));
        for (String action : new String[] {"submit", "approve", "release", "deprecate"}) {
            r.post(v + "/:ref/" + action).handler(gate).handler(json).handler(rc -> call(rc, (repo, who) -> {
                String team = rc.pathParam("team");
                String model = rc.pathParam("model");
                int n = number(rc.pathParam("ref"));
                return switch (action) {
                    case "submit" -> repo.submit(who, team, model, n);
                    case "approve" -> repo.approve(who, team, model, n);
                    case "release" -> repo.release(who, team, model, n, body(rc).getString("tag"));
                    default -> repo.deprecate(who, team, model, n);
                };
            }));
        }
        r.post(v + "/:ref/links").handler(gate).handler(json).handler(rc -> call(rc, (repo, who) -> {
            JsonObject b = body(rc);
            Long size = b.getLong("size");
            if (size == null) {
                throw RepoError.bad("a link needs path, md5 and size");
            }
            return repo.link(who, rc.pathParam("team"), rc.pathParam("model"), number(rc.pathParam("ref")),
                    b.getString("path"), b.getString("md5"), size);
        }));
        r.delete(v + "/:ref").handler(rc -> call(rc, (repo, who) -> repo.trashVersion(who, rc.pathParam("team"),
                rc.pathParam("model"), number(rc.pathParam("ref")), trashKeepMs)));
        r.delete(v + "/:ref/files/*").handler(rc -> call(rc, (repo, who) -> repo.trashFile(who, rc.pathParam("team"),
                rc.pathParam("model"), number(rc.pathParam("ref")), filePath(rc), trashKeepMs)));
        r.get("/teams/:team/trash").handler(rc -> call(rc, (repo, who) -> repo.trash(who, rc.pathParam("team"))));
        r.post("/teams/:team/trash/:id/restore").handler(rc -> call(rc, (repo, who) -> repo.restore(who,
                rc.pathParam("team"), rc.pathParam("id"))));
        r.delete("/teams/:team/trash/:id").handler(rc -> call(rc, (repo, who) -> repo.purge(who, rc.pathParam("team"),
                rc.pathParam("id"))));
        r.put(v + "/:ref/files/*").handler(this::upload);
        r.get(v + "/:ref/files/*").handler(this::download);
        String t = m + "/:model/tags";
        r.get(t).handler(rc -> call(rc, (repo, who) -> repo.tags(who, rc.pathParam("team"), rc.pathParam("model"))));
        r.put(t + "/:tag").handler(gate).handler(json).handler(rc -> call(rc, (repo, who) -> {
            Object ref = body(rc).getValue("version");
            return repo.tag(who, rc.pathParam("team"), rc.pathParam("model"), rc.pathParam("tag"),
                    ref == null ? null : String.valueOf(ref));
        }));
        r.delete(t + "/:tag").handler(rc -> call(rc, (repo, who) -> repo.untag(who, rc.pathParam("team"),
                rc.pathParam("model"), rc.pathParam("tag"))));
        r.put(m + "/:model/shares/:to").handler(rc -> call(rc, (repo, who) -> repo.share(who, rc.pathParam("team"),
                rc.pathParam("model"), rc.pathParam("to"), true)));
        r.delete(m + "/:model/shares/:to").handler(rc -> call(rc, (repo, who) -> repo.share(who,
                rc.pathParam("team"), rc.pathParam("model"), rc.pathParam("to"), false)));
        r.get("/audit").handler(rc -> call(rc, (repo, who) -> repo.audit(who, rc.queryParams().get("team"),
                rc.queryParams().get("user"), rc.queryParams().get("model"), longParam(rc, "from", 0),
                longParam(rc, "to", Long.MAX_VALUE), longParam(rc, "after", 0), intParam(rc, "limit", 100))));
        S3KeysApi.routes(r, this, tokenFile);
        r.route().handler(rc -> error(rc.response(), new RepoError(404, "NoSuchRoute", rc.request().method() + " "
                + rc.request().path() + " is not part of the API (see " + PREFIX + "/openapi.yaml)")));
        return r;
    }

    // ---- plumbing ----

    @FunctionalInterface
    interface Handler {
        Object run(Repository repo, Identity who) throws FsException, RepoError;
    }

    private static JsonObject body(RoutingContext rc) throws RepoError {
        if (rc.body() == null || rc.body().length() == 0) {
            return new JsonObject();
        }
        try {
            JsonObject o = rc.body().asJsonObject();
            return o == null ? new JsonObject() : o;
        } catch (DecodeException | ClassCastException e) {
            throw RepoError.bad("the body is not a JSON object: " + e.getMessage());
        }
    }

    /**
     * The file path a route's wildcard matched, percent-decoded (Vert.x decodes named parameters, not the
     * wildcard); '+' stays a plus, as in any path. A malformed escape is a bad request.
     */
    static String filePath(RoutingContext rc) throws RepoError {
        String raw = rc.pathParam("*");
        if (raw == null || raw.indexOf('%') < 0) {
            return raw;
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                if (i + 2 >= raw.length() || Character.digit(raw.charAt(i + 1), 16) < 0
                        || Character.digit(raw.charAt(i + 2), 16) < 0) {
                    throw RepoError.bad("malformed percent escape in the file path");
                }
                out.write(Character.digit(raw.charAt(i + 1), 16) * 16 + Character.digit(raw.charAt(i + 2), 16));
                i += 2;
            } else {
                byte[] b = String.valueOf(c).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
            }
        }
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static int number(String ref) throws RepoError {
        if (ref != null && ref.matches("v?[0-9]{1,8}")) {
            return Integer.parseInt(ref.startsWith("v") ? ref.substring(1) : ref);
        }
        throw RepoError.bad("a version number is needed here, not " + ref);
    }

    private static long longParam(RoutingContext rc, String name, long absent) throws RepoError {
        String s = rc.queryParams().get(name);
        if (s == null) {
            return absent;
        }
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw RepoError.bad(name + " must be a number");
        }
    }

    private static int intParam(RoutingContext rc, String name, int absent) throws RepoError {
        long l = longParam(rc, name, absent);
        if (l < 1 || l > 1000) {
            throw RepoError.bad(name + " must be 1..1000");
        }
        return (int) l;
    }

    private Identity identify(Repository repo, HttpServerRequest req) throws FsException, RepoError {
        String auth = req.getHeader("Authorization");
        if (auth == null || !auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw RepoError.unauthenticated("no Hangar API token (Authorization: Bearer hgr_…)");
        }
        String origin = req.remoteAddress() == null ? "unknown" : req.remoteAddress().hostAddress();
        return repo.authenticate(auth.substring(7).trim(), origin);
    }

    private Repository repository() throws RepoError {
        Repository r = repository.get();
        if (r == null) {
            throw new RepoError(503, "Unavailable", "the repository of volume " + volume.name()
                    + " is not available (its metadata engine has no repository store, or it is still opening)");
        }
        return r;
    }

    /**
     * Runs a JSON handler on a worker; refusals are answered as JSON and audited. Answers are never cached
     * (some carry secrets shown once).
     */
    void call(RoutingContext rc, Handler h) {
        HttpServerRequest req = rc.request();
        workers.executeBlocking(() -> {
            Repository repo = repository();
            Identity who = identify(repo, req);
            try {
                return h.run(repo, who);
            } catch (RepoError e) {
                throw audited(repo, who, rc.pathParam("team"), rc.pathParam("model"), req, e);
            }
        }, false).onComplete(ar -> {
            if (ar.succeeded()) {
                Object o = ar.result();
                String text = o instanceof JsonArray a ? a.encode() : ((JsonObject) o).encode();
                int status = req.method().name().equals("POST") ? 201 : 200;
                rc.response().setStatusCode(status).putHeader("Content-Type", "application/json")
                        .putHeader("Cache-Control", "no-store").end(text);
            } else {
                error(rc.response(), ar.cause());
            }
        });
    }

    /** A refusal to rethrow, appended to the audit log first when it is a denial (403). */
    private static RepoError audited(Repository repo, Identity who, String team, String model, HttpServerRequest req,
            RepoError e) {
        if (e.status == 403) {
            repo.refused(who, team, model, req.method() + " " + req.path(), req.path(), e);
        }
        return e;
    }

    static void error(HttpServerResponse resp, Throwable t) {
        RepoError e = t instanceof RepoError r ? r : t instanceof FsException f ? RepoError.of(f)
                : new RepoError(500, "InternalError", String.valueOf(t.getMessage()));
        if (e.status == 500) {
            LOG.log(Level.WARNING, "repository API: " + t, t);
        }
        if (resp.ended() || resp.closed()) {
            return;
        }
        if (resp.headWritten()) {
            resp.reset();
            return;
        }
        resp.setStatusCode(e.status).putHeader("Content-Type", "application/json")
                .end(new JsonObject().put("code", e.code).put("message", e.getMessage()).encode());
    }

    private void openapi(RoutingContext rc) {
        try (InputStream in = RepositoryApi.class.getResourceAsStream("openapi.yaml")) {
            rc.response().putHeader("Content-Type", "application/yaml").end(Buffer.buffer(in.readAllBytes()));
        } catch (IOException | NullPointerException e) {
            error(rc.response(), new RepoError(500, "InternalError", "openapi.yaml is missing from the bundle"));
        }
    }

    // ---- file bodies ----

    private record Upload(Repository repo, Identity who, String team, String model, int n, String path,
            Repository.Place place, String tmp, FileHandle handle) {
    }

    /**
     * PUT of a file into a draft. With {@code x-hangar-md5} naming a file the team already stores (and a
     * matching Content-Length), the file is linked and the answer comes before any of the body is read (with
     * {@code Expect: 100-continue}, before it is sent). Otherwise the body streams into a temporary file of the
     * same directory, its MD5 computed on the way, and is renamed into place when whole; a stated MD5 that does
     * not match fails with BadDigest and leaves nothing.
     */
    private void upload(RoutingContext rc) {
        HttpServerRequest req = rc.request();
        req.pause();
        String wantMd5 = req.getHeader("x-hangar-md5");
        String lengthHeader = req.getHeader("Content-Length");
        workers.executeBlocking(() -> {
            Repository repo = repository();
            Identity who = identify(repo, req);
            String team = rc.pathParam("team");
            String model = rc.pathParam("model");
            try {
                int n = number(rc.pathParam("ref"));
                String path = filePath(rc);
                repo.writableVersion(who, team, model, n);
                long length = -1;
                if (lengthHeader != null) {
                    try {
                        length = Long.parseLong(lengthHeader);
                    } catch (NumberFormatException e) {
                        throw RepoError.bad("malformed Content-Length");
                    }
                }
                // Linked before the body only when the client waits for 100 Continue: without it the body is on
                // its way, and an early answer would cut it off. Sent bodies are deduplicated after the fact.
                String expect = req.getHeader("Expect");
                if (wantMd5 != null && length >= 0 && expect != null && expect.equalsIgnoreCase("100-continue")) {
                    try {
                        return (Object) repo.link(who, team, model, n, path, Repository.md5(wantMd5), length);
                    } catch (RepoError notKnown) {
                        if (notKnown.status != 404) {
                            throw notKnown;
                        }
                    }
                }
                Repository.Place place = repo.placeFor(team, model, n, path);
                String tmp = ".upload-" + Long.toHexString(System.nanoTime());
                FileHandle h = volume.create(Caller.ROOT, place.dir(), tmp, 0644,
                        OpenFlags.WRONLY | OpenFlags.CREAT | OpenFlags.EXCL);
                return new Upload(repo, who, team, model, n, path, place, tmp, h);
            } catch (RepoError e) {
                throw audited(repo, who, team, model, req, e);
            }
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                req.response().putHeader("Connection", "close");
                error(req.response(), ar.cause());
                return;
            }
            if (ar.result() instanceof JsonObject linked) {
                req.response().setStatusCode(201).putHeader("Content-Type", "application/json")
                        .putHeader("Connection", "close").end(linked.encode());
                return;
            }
            Upload u = (Upload) ar.result();
            String expect = req.getHeader("Expect");
            if (expect != null && expect.equalsIgnoreCase("100-continue")) {
                req.response().writeContinue();
            }
            stream(req, u, wantMd5);
        });
    }

    private void stream(HttpServerRequest req, Upload u, String wantMd5) {
        MessageDigest md5 = Repository.md5Digest();
        long[] position = {0};
        long[] queued = {0};
        boolean[] failed = {false};
        @SuppressWarnings("unchecked")
        Future<Void>[] tail = new Future[] {Future.succeededFuture()};
        // Bodies arrive in Netty's small buffers: each piece is counted in the gateway's body budget as it
        // arrives and kept until about a MiB is there, which goes to the volume in one write (one worker task
        // each, in order). The request is paused while more than HIGH_WATER waits for the volume, or while the
        // gateway's budget is spent; pausing for the budget sends the partial batch first, so a paused request
        // holds only writes in flight, which end by themselves. After a failed write the rest of the body is
        // drained, so the end comes and the answer says what failed.
        Pieces pieces = new Pieces(bodies);
        io.vertx.core.Context context = vertx.getOrCreateContext();
        Runnable[] maybeResume = new Runnable[1];
        maybeResume[0] = () -> {
            if (!failed[0] && queued[0] > HIGH_WATER / 2) {
                return;
            }
            if (!failed[0] && bodies.over()) {
                bodies.awaitOn(context, maybeResume[0]);
                return;
            }
            req.resume();
        };
        Runnable ship = () -> {
            if (pieces.length() == 0) {
                return;
            }
            byte[] bytes = pieces.take();
            int length = bytes.length;
            long at = position[0];
            position[0] += length;
            queued[0] += length;
            if (queued[0] > HIGH_WATER || bodies.over()) {
                req.pause();
                if (queued[0] <= HIGH_WATER) {
                    bodies.awaitOn(context, maybeResume[0]);
                }
            }
            tail[0] = tail[0].compose(x -> workers.<Void>executeBlocking(() -> {
                if (!failed[0]) {
                    u.handle().write(at, bytes, 0, length);
                    md5.update(bytes, 0, length);
                }
                return null;
            }, false)).onComplete(x -> context.runOnContext(v -> {
                // On the request's own context, like every pause: a resume from a worker thread can be lost.
                queued[0] -= length;
                bodies.release(length);
                if (x.failed()) {
                    failed[0] = true;
                }
                maybeResume[0].run();
            }));
        };
        req.handler(buf -> {
            pieces.add(buf.getBytes());
            if (pieces.length() >= BATCH || bodies.over()) {
                ship.run();
            }
        });
        req.exceptionHandler(t -> {
            failed[0] = true;
            pieces.drop();
        });
        req.endHandler(x -> {
            ship.run();
            tail[0].onComplete(done -> workers.executeBlocking(() -> {
                try {
                    u.handle().close();
                    if (done.failed() || failed[0]) {
                        throw done.failed() ? done.cause() : RepoError.bad("the upload was cut off");
                    }
                    String got = HexFormat.of().formatHex(md5.digest());
                    if (wantMd5 != null && !wantMd5.equals(got)) {
                        throw new RepoError(400, "BadDigest", "the body's MD5 is " + got + ", not " + wantMd5);
                    }
                    volume.rename(Caller.ROOT, u.place().dir(), u.tmp(), u.place().dir(), u.place().name(), 0);
                    return u.repo().recordFile(u.who(), u.team(), u.model(), u.n(), u.path(), u.place(), got);
                } catch (Throwable t) {
                    try {
                        volume.unlink(Caller.ROOT, u.place().dir(), u.tmp());
                    } catch (FsException gone) {
                        // Renamed already or never there.
                    }
                    throw t instanceof Exception ex ? ex : new RuntimeException(t);
                }
            }, false).onComplete(ar -> {
                if (ar.succeeded()) {
                    req.response().setStatusCode(201).putHeader("Content-Type", "application/json")
                            .end(ar.result().encode());
                } else {
                    error(req.response(), ar.cause());
                }
            }));
        });
        req.resume();
    }

    /** GET of a file of a version the caller may read, streamed piece by piece as the client takes it. */
    private void download(RoutingContext rc) {
        HttpServerRequest req = rc.request();
        workers.executeBlocking(() -> {
            Repository repo = repository();
            Identity who = identify(repo, req);
            String team = rc.pathParam("team");
            String model = rc.pathParam("model");
            try {
                JsonObject v = repo.version(who, team, model, rc.pathParam("ref"));
                Repository.path(filePath(rc));
                Entry e = volume.resolve(v.getString("path") + "/" + filePath(rc));
                if (e.attr().type() != FileType.FILE) {
                    throw RepoError.notFound(filePath(rc) + " is not a file of " + team + "/" + model);
                }
                return volume.open(Caller.ROOT, e.attr().inode(), OpenFlags.RDONLY);
            } catch (RepoError e) {
                throw audited(repo, who, team, model, req, e);
            }
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                error(req.response(), ar.cause());
                return;
            }
            FileHandle h = ar.result();
            HttpServerResponse resp = req.response();
            try {
                long size = volume.getattr(h.inode()).length();
                resp.putHeader("Content-Type", "application/octet-stream")
                        .putHeader("Content-Length", Long.toString(size));
            } catch (FsException e) {
                close(h);
                error(resp, e);
                return;
            }
            resp.closeHandler(x -> close(h));
            pump(resp, h, 0);
        });
    }

    /** Counts a body read whole (at most {@link #JSON_LIMIT}) in the small bodies' budget, or refuses it. */
    private void admitBody(io.vertx.ext.web.RoutingContext rc) {
        long n = JSON_LIMIT;
        String length = rc.request().getHeader("Content-Length");
        if (length != null) {
            try {
                n = Math.min(Math.max(0, Long.parseLong(length.trim())), JSON_LIMIT);
            } catch (NumberFormatException e) {
                n = JSON_LIMIT;
            }
        }
        long held = n;
        smallBodies.take(held);
        if (smallBodies.over()) {
            smallBodies.release(held);
            error(rc.response(), new RepoError(503, "SlowDown", "too many request bodies at once: try again"));
            return;
        }
        rc.addEndHandler(x -> smallBodies.release(held));
        rc.next();
    }

    private void pump(HttpServerResponse resp, FileHandle h, long at) {
        if (resp.closed()) {
            return; // its close handler closes h
        }
        // Read only once the piece fits in the gateway's body budget; given back once the connection took it.
        bodies.acquireOn(PIECE, vertx.getOrCreateContext(), () -> readAndSend(resp, h, at));
    }

    private void readAndSend(HttpServerResponse resp, FileHandle h, long at) {
        if (resp.closed()) {
            bodies.release(PIECE);
            return;
        }
        workers.executeBlocking(() -> {
            byte[] buf = new byte[PIECE];
            int n = h.read(at, buf, 0, buf.length);
            return n <= 0 ? null : Buffer.buffer(n).appendBytes(buf, 0, n);
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                bodies.release(PIECE);
                close(h);
                error(resp, ar.cause());
            } else if (ar.result() == null) {
                bodies.release(PIECE);
                close(h);
                resp.end();
            } else if (resp.closed()) {
                bodies.release(PIECE);
            } else {
                Buffer b = ar.result();
                resp.write(b).onComplete(x -> bodies.release(PIECE));
                if (resp.writeQueueFull()) {
                    resp.drainHandler(x -> pump(resp, h, at + b.length()));
                } else {
                    pump(resp, h, at + b.length());
                }
            }
        });
    }

    private static void close(FileHandle h) {
        try {
            h.close();
        } catch (FsException e) {
            LOG.fine("closing a download: " + e.getMessage());
        }
    }
}
