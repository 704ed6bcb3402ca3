package io.hangar.frontend.http.repo;

import io.hangar.fs.FsException;
import io.hangar.spi.repo.RepositoryStore;
import io.hangar.vfs.Volume;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.function.Supplier;

/**
 * The REST routes of users' S3 keys (relative to {@link RepositoryApi#PREFIX}):
 * {@code POST /users/{user}/s3-keys} (a site administrator, or the user themself) answers
 * {@code {user, accessKey, secretKey, created}}, the secret shown this once; {@code GET} lists the access keys;
 * {@code DELETE /users/{user}/s3-keys/{accessKey}} revokes one. Same conventions as the rest of the API: a
 * bearer token, JSON errors, refusals audited.
 */
public final class S3KeysApi {
    private S3KeysApi() {
    }

    @FunctionalInterface
    private interface Call {
        Object run(Repository repo, S3Keys keys, Identity who) throws FsException, RepoError;
    }

    /**
     * Registers the routes on {@code r} (the API's router); {@code repository} gives the repository served,
     * null while there is none (503). {@code apiTokenFile}: the gateway's API token file, beside which the site
     * key lives (null: in memory).
     */
    public static void routes(Router r, WorkerExecutor workers, Supplier<Repository> repository, String apiTokenFile) {
        String base = "/users/:user/s3-keys";
        r.post(base).handler(rc -> call(rc, workers, repository, apiTokenFile,
                (repo, keys, who) -> keys.issue(who, rc.pathParam("user"))));
        r.get(base).handler(rc -> call(rc, workers, repository, apiTokenFile,
                (repo, keys, who) -> keys.list(who, rc.pathParam("user"))));
        r.delete(base + "/:accessKey").handler(rc -> call(rc, workers, repository, apiTokenFile,
                (repo, keys, who) -> keys.revoke(who, rc.pathParam("user"), rc.pathParam("accessKey"))));
    }

    /** The same for a router outside {@link RepositoryApi}: the repository of {@code store} on {@code volume}. */
    public static void routes(Router r, WorkerExecutor workers, Supplier<RepositoryStore> store, Volume volume,
            String apiTokenFile) {
        routes(r, workers, () -> {
            RepositoryStore s = store.get();
            return s == null ? null : new Repository(s, volume);
        }, apiTokenFile);
    }

    private static void call(RoutingContext rc, WorkerExecutor workers, Supplier<Repository> repository,
            String apiTokenFile, Call c) {
        HttpServerRequest req = rc.request();
        workers.executeBlocking(() -> {
            Repository repo = repository.get();
            if (repo == null) {
                throw new RepoError(503, "Unavailable", "the repository is not available (yet)");
            }
            String auth = req.getHeader("Authorization");
            if (auth == null || !auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
                throw RepoError.unauthenticated("no Hangar API token (Authorization: Bearer hgr_…)");
            }
            String origin = req.remoteAddress() == null ? "unknown" : req.remoteAddress().hostAddress();
            Identity who = repo.authenticate(auth.substring(7).trim(), origin);
            try {
                return c.run(repo, new S3Keys(repo.store(), apiTokenFile), who);
            } catch (RepoError e) {
                if (e.status == 403) {
                    repo.refused(who, null, null, req.method() + " " + req.path(), req.path(), e);
                }
                throw e;
            }
        }, false).onComplete(ar -> {
            if (ar.succeeded()) {
                Object o = ar.result();
                String text = o instanceof JsonArray a ? a.encode() : ((JsonObject) o).encode();
                int status = req.method().name().equals("POST") ? 201 : 200;
                rc.response().setStatusCode(status).putHeader("Content-Type", "application/json")
                        .putHeader("Cache-Control", "no-store").end(text);
            } else {
                RepositoryApi.error(rc.response(), ar.cause());
            }
        });
    }
}
