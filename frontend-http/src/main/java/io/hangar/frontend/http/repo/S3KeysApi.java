package io.hangar.frontend.http.repo;

import io.vertx.ext.web.Router;

/**
 * The REST routes of users' S3 keys (relative to {@link RepositoryApi#PREFIX}):
 * {@code POST /users/{user}/s3-keys} (a site administrator, or the user themself) answers
 * {@code {user, accessKey, secretKey, created}}, the secret shown this once; {@code GET} lists the access keys;
 * {@code DELETE /users/{user}/s3-keys/{accessKey}} revokes one. Same conventions as the rest of the API: a
 * bearer token, JSON errors, refusals audited.
 */
final class S3KeysApi {
    private S3KeysApi() {
    }

    /** Registers the routes on the API's router; the site key lives beside {@code apiTokenFile} (null: in memory). */
    static void routes(Router r, RepositoryApi api, String apiTokenFile) {
        String base = "/users/:user/s3-keys";
        r.post(base).handler(rc -> api.call(rc, (repo, who) -> new S3Keys(repo.store(), apiTokenFile)
                .issue(who, rc.pathParam("user"))));
        r.get(base).handler(rc -> api.call(rc, (repo, who) -> new S3Keys(repo.store(), apiTokenFile)
                .list(who, rc.pathParam("user"))));
        r.delete(base + "/:accessKey").handler(rc -> api.call(rc, (repo, who) -> new S3Keys(repo.store(),
                apiTokenFile).revoke(who, rc.pathParam("user"), rc.pathParam("accessKey"))));
    }
}
