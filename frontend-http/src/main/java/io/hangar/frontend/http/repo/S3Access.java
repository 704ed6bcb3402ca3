package io.hangar.frontend.http.repo;

import io.hangar.fs.FsException;
import io.hangar.spi.repo.RepoRecord;
import io.hangar.spi.repo.RepositoryStore;
import io.hangar.vfs.Volume;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the S3 gateway asks the repository about a request signed with a repository user's S3 key: the key
 * itself (its secret decrypted), whether the user may list, read or write a team's bucket, and the dedup of
 * files PUT into a draft version. Every method blocks (call it on a worker). The rules are the REST API's:
 * a read of {@code <team>/<model>/…} needs a role in the team or a share of that model to one of the user's
 * teams; listing a bucket a role in the team; a write the role writer; creating or deleting a bucket a site
 * administrator.
 */
public final class S3Access {
    private static final Pattern DRAFT_KEY = Pattern.compile("([^/]+)/v([0-9]{1,8})/(.+)");

    private final Repository repo;
    private final S3Keys keys;

    /** The repository kept in {@code store}; the site key beside {@code apiTokenFile} (null: in memory). */
    public S3Access(RepositoryStore store, Volume volume, String apiTokenFile) {
        this.repo = new Repository(store, volume);
        this.keys = new S3Keys(store, apiTokenFile);
    }

    /** A repository user as a request signed with their S3 key shows them. */
    public static final class Principal {
        final Identity who;

        Principal(Identity who) {
            this.who = who;
        }

        public String user() {
            return who.user();
        }

        public boolean siteAdmin() {
            return who.siteAdmin();
        }

        @Override
        public String toString() {
            return who.user();
        }
    }

    /** An S3 key of a repository user. {@link #toString} leaves the secret out. */
    public static final class Key {
        private final String accessKey;
        private final String secret;
        private final Principal principal;

        Key(String accessKey, String secret, Principal principal) {
            this.accessKey = accessKey;
            this.secret = secret;
            this.principal = principal;
        }

        public String accessKey() {
            return accessKey;
        }

        public String secret() {
            return secret;
        }

        public Principal principal() {
            return principal;
        }

        @Override
        public String toString() {
            return "S3 key " + accessKey + " of " + principal;
        }
    }

    /** A refusal: the S3 answer is AccessDenied. */
    public static final class Denied extends Exception {
        private static final long serialVersionUID = 1L;

        Denied(String message) {
            super(message, null, false, false);
        }
    }

    /** The user's key {@code accessKey}, or null if there is none (or its user is gone). */
    public Key find(String accessKey, String origin) throws FsException {
        S3Keys.Found f = keys.find(accessKey);
        if (f == null) {
            return null;
        }
        java.util.Optional<RepoRecord> u = repo.store().get("user/" + f.user());
        if (u.isEmpty()) {
            return null;
        }
        boolean siteAdmin = new io.vertx.core.json.JsonObject(new String(u.get().value(),
                java.nio.charset.StandardCharsets.UTF_8)).getBoolean("siteAdmin", false);
        return new Key(f.accessKey(), f.secret(), new Principal(new Identity(f.user(), siteAdmin, null, null, origin)));
    }

    /** The teams whose buckets ListBuckets shows the user; null for a site administrator (every bucket). */
    public Set<String> teams(Principal p) throws FsException {
        if (p.who.siteAdmin()) {
            return null;
        }
        Set<String> out = new HashSet<>();
        String prefix = "member-of/" + p.who.user() + "/";
        for (RepoRecord r : repo.store().list(prefix, null, 1000)) {
            out.add(r.key().substring(prefix.length()));
        }
        return out;
    }

    /** Listing (or HEAD, location, uploads) of a bucket: a role in the team. */
    public void requireList(Principal p, String team) throws FsException, Denied {
        if (repo.roleOf(p.who, team) == null) {
            throw new Denied(p.who.user() + " has no role in team " + team + " and may not list its bucket");
        }
    }

    /**
     * Listing a bucket under {@code prefix}: a role in the team, or, with a prefix {@code <model>/…}, read
     * access to that model (a share).
     */
    public void requireList(Principal p, String team, String prefix) throws FsException, Denied {
        int slash = prefix == null ? -1 : prefix.indexOf('/');
        if (slash <= 0 || repo.roleOf(p.who, team) != null) {
            requireList(p, team);
            return;
        }
        requireRead(p, team, prefix);
    }

    /** A read of object {@code key}: read access to the model named by its first segment. */
    public void requireRead(Principal p, String team, String key) throws FsException, Denied {
        try {
            repo.requireRead(p.who, team, model(key));
        } catch (RepoError e) {
            throw new Denied(e.getMessage());
        }
    }

    /** A change in a team's bucket: the role writer. */
    public void requireWrite(Principal p, String team) throws FsException, Denied {
        try {
            repo.requireRole(p.who, team, Role.WRITER);
        } catch (RepoError e) {
            throw new Denied(e.getMessage());
        }
    }

    /** Creating or deleting a bucket: a site administrator (teams are made through the API). */
    public void requireSiteAdmin(Principal p) throws Denied {
        if (!p.who.siteAdmin()) {
            throw new Denied(p.who.user() + " is not a site administrator: buckets are teams, made through the API");
        }
    }

    /** Appends a refusal to the audit log (result denied) with the reason. */
    public void refused(Principal p, String bucket, String key, String action, String message) {
        String team = bucket != null && bucket.matches("[a-z0-9][a-z0-9-]{1,61}[a-z0-9]") ? bucket : null;
        repo.refused(p.who, team, key == null || team == null ? null : model(key), action,
                "/" + (bucket == null ? "" : bucket) + (key == null ? "" : "/" + key), RepoError.denied(message));
    }

    private static String model(String key) {
        int slash = key.indexOf('/');
        return slash < 0 ? key : key.substring(0, slash);
    }

    /** A file of a draft version, as a PUT's key names it: {@code <model>/v<n>/<path>} in bucket {@code <team>}. */
    public static final class Draft {
        final String team;
        final String model;
        final int number;
        final String path;

        Draft(String team, String model, int number, String path) {
            this.team = team;
            this.model = model;
            this.number = number;
            this.path = path;
        }

        @Override
        public String toString() {
            return team + "/" + model + ":" + number + "/" + path;
        }
    }

    /** The draft file this key names, if it names one the user may write; null otherwise. */
    public Draft draft(Principal p, String team, String key) throws FsException {
        Matcher m = DRAFT_KEY.matcher(key);
        if (!m.matches()) {
            return null;
        }
        try {
            Repository.team(team);
            Repository.model(m.group(1));
            Repository.path(m.group(3));
            int n = Integer.parseInt(m.group(2));
            repo.writableVersion(p.who, team, m.group(1), n);
            return new Draft(team, m.group(1), n, m.group(3));
        } catch (RepoError notADraft) {
            return null;
        }
    }

    /**
     * Links the draft file to the team's stored file with this MD5 and size, if there is one: true if the
     * file is now in place (no body needed), false if it must be uploaded.
     */
    public boolean link(Principal p, Draft d, String md5Hex, long size) throws FsException, Denied {
        try {
            repo.link(p.who, d.team, d.model, d.number, d.path, Repository.md5(md5Hex), size);
            return true;
        } catch (RepoError e) {
            if (e.status == 403) {
                throw new Denied(e.getMessage());
            }
            return false;
        }
    }

    /**
     * Records a file PUT into the draft, with the MD5 of its body: the manifest and the MD5 index learn it,
     * and if the team already stored that MD5 the new file becomes a clone of it (its new blocks released).
     * True if it was deduplicated so.
     */
    public boolean record(Principal p, Draft d, String md5Hex) throws FsException, Denied {
        try {
            Repository.Place place = repo.placeFor(d.team, d.model, d.number, d.path);
            return repo.recordFile(p.who, d.team, d.model, d.number, d.path, place, Repository.md5(md5Hex))
                    .getBoolean("deduplicated", false);
        } catch (RepoError e) {
            if (e.status == 403) {
                throw new Denied(e.getMessage());
            }
            throw new FsException(io.hangar.fs.Errno.EIO, "recording " + d + ": " + e.getMessage());
        }
    }
}
