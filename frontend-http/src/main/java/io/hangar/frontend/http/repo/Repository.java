package io.hangar.frontend.http.repo;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.hangar.fs.Attr;
import io.hangar.fs.Caller;
import io.hangar.fs.DirEntry;
import io.hangar.fs.Entry;
import io.hangar.fs.Errno;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.fs.OpenFlags;
import io.hangar.spi.repo.AuditEntry;
import io.hangar.spi.repo.AuditEvent;
import io.hangar.spi.repo.AuditPage;
import io.hangar.spi.repo.AuditQuery;
import io.hangar.spi.repo.RepoCondition;
import io.hangar.spi.repo.RepoRecord;
import io.hangar.spi.repo.RepoWrite;
import io.hangar.spi.repo.RepositoryStore;
import io.hangar.vfs.FileHandle;
import io.hangar.vfs.Volume;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The model repository of one volume: teams, users, tokens and roles, models, versions and their manifests,
 * tags, the release lifecycle, shares, MD5 dedup and the audit log. Records live in the volume's
 * {@link RepositoryStore} (keys in docs/repository.md); a version's files live in the volume at
 * {@code /<team>/<model>/v<n>/}.
 *
 * <p>Every change is one conditional commit of the store, its audit event included, retried when a
 * concurrent change got there first. A change that also touches the namespace does the namespace part first
 * and idempotently (a retry finds the directory, the clone or the freeze already there), so a crash between
 * the two is repaired by running the request again.
 */
final class Repository {
    /** Longer than the VFS's recheck of frozen trees, so that no process still accepts a write afterwards. */
    static final long FROZEN_SETTLE_MS = Volume.FROZEN_RECHECK_MS + 100;
    private static final int ATTEMPTS = 20;
    private static final int BATCH = 500;
    private static final Caller ROOT = Caller.ROOT;
    private static final Pattern TEAM = Pattern.compile("[a-z0-9][a-z0-9-]{1,61}[a-z0-9]");
    private static final Pattern USER = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    private static final Pattern MODEL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final Pattern TAG = Pattern.compile("[A-Za-z][A-Za-z0-9._-]{0,127}");
    private static final Pattern MD5 = Pattern.compile("[0-9a-f]{32}");
    static final String ADMIN = "admin";

    enum State {
        DRAFT, SUBMITTED, RELEASED, DEPRECATED, TRASHED;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        static State of(JsonObject version) {
            return valueOf(version.getString("state").toUpperCase(java.util.Locale.ROOT));
        }
    }

    private final RepositoryStore store;
    private final Volume volume;

    Repository(RepositoryStore store, Volume volume) {
        this.store = store;
        this.volume = volume;
    }

    Volume volume() {
        return volume;
    }

    RepositoryStore store() {
        return store;
    }

    // ---- records ----

    private record Rec(JsonObject value, long version) {
    }

    private Optional<Rec> get(String key) throws FsException {
        Optional<RepoRecord> r = store.get(key);
        return r.map(x -> new Rec(new JsonObject(new String(x.value(), UTF_8)), x.version()));
    }

    private static RepoWrite put(String key, JsonObject value) {
        return RepoWrite.put(key, value.encode().getBytes(UTF_8));
    }

    private static RepoCondition at(String key, Optional<Rec> r) {
        return new RepoCondition(key, r.map(Rec::version).orElse(0L));
    }

    private static AuditEvent event(Identity who, String team, String model, String action, String target,
            String result, JsonObject details) {
        JsonObject d = new JsonObject().put("action", action).put("target", target).put("result", result)
                .put("origin", who.origin());
        if (details != null) {
            d.put("details", details);
        }
        return new AuditEvent(team, who.user(), model, d.encode().getBytes(UTF_8));
    }

    /** One change of records: computed against what it read, committed only if nothing it read moved. */
    private interface Change<T> {
        /** Fills {@code conditions} and {@code writes}, returns the answer. */
        T plan(List<RepoCondition> conditions, List<RepoWrite> writes) throws FsException, RepoError;
    }

    private <T> T change(Identity who, String team, String model, String action, String target, Change<T> c)
            throws FsException, RepoError {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            List<RepoCondition> conditions = new ArrayList<>();
            List<RepoWrite> writes = new ArrayList<>();
            T answer = c.plan(conditions, writes);
            JsonObject details = answer instanceof JsonObject j ? j : null;
            if (store.commit(conditions, writes, List.of(event(who, team, model, action, target, "ok", details)))) {
                return answer;
            }
        }
        throw new RepoError(503, "Busy", action + " " + target + ": too many concurrent changes, try again");
    }

    /** Audits a refused request: who tried what, from where, and why it was refused. */
    void refused(Identity who, String team, String model, String action, String target, RepoError why) {
        try {
            store.commit(List.of(), List.of(), List.of(event(who, team, model, action, target, "denied",
                    new JsonObject().put("code", why.code).put("message", why.getMessage()))));
        } catch (FsException e) {
            // The refusal stands; the log is what cannot be written (the backend is failing anyway).
        }
    }

    // ---- names ----

    static String team(String t) throws RepoError {
        if (t == null || !TEAM.matcher(t).matches() || t.equals("api")) {
            throw RepoError.bad("team name " + t + " must be 3-63 of a-z, 0-9 and '-' (a valid bucket name, not 'api')");
        }
        return t;
    }

    static String user(String u) throws RepoError {
        if (u == null || !USER.matcher(u).matches()) {
            throw RepoError.bad("user name " + u + " must be 1-64 of a-z, 0-9, '.', '_' and '-'");
        }
        return u;
    }

    static String model(String m) throws RepoError {
        if (m == null || !MODEL.matcher(m).matches()) {
            throw RepoError.bad("model name " + m + " must be 1-128 of letters, digits, '.', '_' and '-'");
        }
        return m;
    }

    static String tag(String t) throws RepoError {
        if (t == null || !TAG.matcher(t).matches()) {
            throw RepoError.bad("tag " + t + " must start with a letter and hold letters, digits, '.', '_', '-'");
        }
        return t;
    }

    static String md5(String m) throws RepoError {
        if (m == null || !MD5.matcher(m).matches()) {
            throw RepoError.bad("MD5 " + m + " must be 32 lower-case hex digits");
        }
        return m;
    }

    /** A file's path inside a version: '/'-separated names, none empty, "." or "..". */
    static List<String> path(String p) throws RepoError {
        if (p == null || p.isEmpty() || p.getBytes(UTF_8).length > 4096) {
            throw RepoError.bad("file path must be 1-4096 bytes");
        }
        List<String> names = List.of(p.split("/", -1));
        for (String n : names) {
            if (n.isEmpty() || n.equals(".") || n.equals("..") || n.indexOf('\0') >= 0
                    || n.getBytes(UTF_8).length > 255) {
                throw RepoError.bad("bad file path " + p + ": empty, '.', '..' or over-long names");
            }
        }
        return names;
    }

    private static String versionKey(String team, String model, int n) {
        return "version/" + team + "/" + model + "/" + String.format("%08d", n);
    }

    private static String fileKey(String team, String model, int n, String path) {
        return "file/" + team + "/" + model + "/" + String.format("%08d", n) + "/" + path;
    }

    /**
     * Sizes of files the team has stored: a file of a size the team never stored cannot be a duplicate, so
     * the push client need not hash it before sending (the server hashes it on the way in). Never removed: a
     * stale size costs one needless hash, nothing else.
     */
    private static String sizeKey(String team, long size) {
        return "size/" + team + "/" + size;
    }

    private static String md5Key(String team, String md5) {
        return "md5/" + team + "/" + md5;
    }

    static String versionPath(String team, String model, int n) {
        return "/" + team + "/" + model + "/v" + n;
    }

    // ---- identities ----

    /** Creates the site administrator {@value #ADMIN} with a first token, once; empty if it exists. */
    Optional<String> bootstrap() throws FsException, RepoError {
        if (store.get("user/" + ADMIN).isPresent()) {
            return Optional.empty();
        }
        Tokens.Issued t = Tokens.issue();
        Identity system = new Identity("system", true, null, null, "local");
        boolean done = store.commit(List.of(RepoCondition.absent("user/" + ADMIN)),
                List.of(put("user/" + ADMIN, new JsonObject().put("name", ADMIN).put("siteAdmin", true)
                        .put("created", System.currentTimeMillis())), put("token/" + t.id(), tokenRecord(ADMIN, t, null, null))),
                List.of(event(system, null, null, "user.create", ADMIN, "ok", null)));
        return done ? Optional.of(t.token()) : Optional.empty();
    }

    private static JsonObject tokenRecord(String user, Tokens.Issued t, String team, String model) {
        JsonObject r = new JsonObject().put("user", user).put("salt", t.salt()).put("hash", t.hash())
                .put("created", System.currentTimeMillis());
        if (team != null) {
            r.put("team", team).put("model", model);
        }
        return r;
    }

    Identity authenticate(String token, String origin) throws FsException, RepoError {
        Tokens.Parsed p = Tokens.parse(token);
        Rec t = get("token/" + p.id()).orElseThrow(() -> RepoError.unauthenticated("unknown or revoked API token"));
        JsonObject v = t.value();
        if (!Tokens.matches(v.getString("salt"), v.getString("hash"), p.secret())) {
            throw RepoError.unauthenticated("unknown or revoked API token");
        }
        Rec u = get("user/" + v.getString("user")).orElseThrow(() -> RepoError.unauthenticated("the token's user is gone"));
        return new Identity(v.getString("user"), u.value().getBoolean("siteAdmin", false), v.getString("team"),
                v.getString("model"), origin);
    }

    JsonObject whoami(Identity who) throws FsException {
        JsonObject out = new JsonObject().put("user", who.user()).put("siteAdmin", who.siteAdmin());
        if (who.scoped()) {
            out.put("scope", new JsonObject().put("team", who.scopeTeam()).put("model", who.scopeModel())
                    .put("access", "read released versions"));
        }
        JsonObject teams = new JsonObject();
        for (RepoRecord r : store.list("member-of/" + who.user() + "/", null, 1000)) {
            teams.put(r.key().substring(("member-of/" + who.user() + "/").length()),
                    new JsonObject(new String(r.value(), UTF_8)).getString("role"));
        }
        return out.put("teams", teams);
    }

    private void siteAdmin(Identity who) throws RepoError {
        if (!who.siteAdmin() || who.scoped()) {
            throw RepoError.denied(who.user() + " is not a site administrator");
        }
    }

    JsonObject createUser(Identity who, String name, boolean siteAdmin) throws FsException, RepoError {
        siteAdmin(who);
        user(name);
        return change(who, null, null, "user.create", name, (conds, writes) -> {
            if (get("user/" + name).isPresent()) {
                throw RepoError.conflict("user " + name + " exists");
            }
            conds.add(RepoCondition.absent("user/" + name));
            JsonObject u = new JsonObject().put("name", name).put("siteAdmin", siteAdmin)
                    .put("created", System.currentTimeMillis()).put("createdBy", who.user());
            writes.add(put("user/" + name, u));
            return u;
        });
    }

    /**
     * A new token for {@code user}: by a site administrator for anyone, by a user for themself. With
     * {@code team}/{@code model}, the token may only read that model's released versions (an inference pod's).
     */
    JsonObject issueToken(Identity who, String user, String team, String model) throws FsException, RepoError {
        user(user);
        if (who.scoped() || (!who.siteAdmin() && !who.user().equals(user))) {
            throw RepoError.denied(who.user() + " may not issue tokens for " + user);
        }
        if (team != null) {
            requireRead(who.user().equals(user) ? who : identityOf(user), team(team), model(model));
        }
        Tokens.Issued t = Tokens.issue();
        JsonObject out = new JsonObject().put("user", user).put("id", t.id());
        change(who, team, model, "token.issue", user + (team == null ? "" : " scoped to " + team + "/" + model),
                (conds, writes) -> {
                    Optional<Rec> u = get("user/" + user);
                    if (u.isEmpty()) {
                        throw RepoError.notFound("no user " + user);
                    }
                    conds.add(at("user/" + user, u));
                    writes.add(put("token/" + t.id(), tokenRecord(user, t, team, model)));
                    return out.copy();
                });
        return out.put("token", t.token());
    }

    private Identity identityOf(String user) throws FsException, RepoError {
        Rec u = get("user/" + user).orElseThrow(() -> RepoError.notFound("no user " + user));
        return new Identity(user, u.value().getBoolean("siteAdmin", false), null, null, "local");
    }

    JsonObject createTeam(Identity who, String name) throws FsException, RepoError {
        siteAdmin(who);
        team(name);
        mkdirIfAbsent(io.hangar.spi.meta.MetadataEngine.ROOT, name);
        return change(who, name, null, "team.create", name, (conds, writes) -> {
            if (get("team/" + name).isPresent()) {
                throw RepoError.conflict("team " + name + " exists");
            }
            conds.add(RepoCondition.absent("team/" + name));
            JsonObject t = new JsonObject().put("name", name).put("created", System.currentTimeMillis())
                    .put("createdBy", who.user());
            writes.add(put("team/" + name, t));
            return t;
        });
    }

    JsonArray teams(Identity who) throws FsException {
        JsonArray out = new JsonArray();
        for (RepoRecord r : store.list("team/", null, 1000)) {
            String name = r.key().substring(5);
            if (who.siteAdmin() || roleOf(who, name) != null) {
                out.add(new JsonObject(new String(r.value(), UTF_8)));
            }
        }
        return out;
    }

    /** Sets (or with null removes) {@code user}'s role in {@code team}: a team or site administrator. */
    JsonObject setRole(Identity who, String team, String user, Role role) throws FsException, RepoError {
        team(team);
        user(user);
        requireRole(who, team, Role.ADMIN);
        String key = "member/" + team + "/" + user;
        return change(who, team, null, role == null ? "member.remove" : "member.set", team + "/" + user,
                (conds, writes) -> {
                    conds.add(at("team/" + team, Optional.of(needTeam(team))));
                    Optional<Rec> u = get("user/" + user);
                    if (u.isEmpty()) {
                        throw RepoError.notFound("no user " + user);
                    }
                    conds.add(at("user/" + user, u));
                    JsonObject m = new JsonObject().put("team", team).put("user", user);
                    if (role == null) {
                        writes.add(RepoWrite.delete(key));
                        writes.add(RepoWrite.delete("member-of/" + user + "/" + team));
                    } else {
                        m.put("role", role.label());
                        writes.add(put(key, m));
                        writes.add(put("member-of/" + user + "/" + team, m));
                    }
                    return m;
                });
    }

    JsonArray members(Identity who, String team) throws FsException, RepoError {
        team(team);
        requireRole(who, team, Role.READER);
        JsonArray out = new JsonArray();
        for (RepoRecord r : store.list("member/" + team + "/", null, 1000)) {
            out.add(new JsonObject(new String(r.value(), UTF_8)));
        }
        return out;
    }

    // ---- access ----

    private Rec needTeam(String team) throws FsException, RepoError {
        return get("team/" + team).orElseThrow(() -> RepoError.notFound("no team " + team));
    }

    /** The caller's role in the team (site administrators are admins of every team), or null. */
    Role roleOf(Identity who, String team) throws FsException {
        if (who.scoped()) {
            return null;
        }
        if (who.siteAdmin()) {
            return Role.ADMIN;
        }
        Optional<Rec> m = get("member/" + team + "/" + who.user());
        return m.isEmpty() ? null : Role.valueOf(m.get().value().getString("role").toUpperCase(java.util.Locale.ROOT));
    }

    void requireRole(Identity who, String team, Role needed) throws FsException, RepoError {
        Role r = roleOf(who, team);
        if (r == null || !r.atLeast(needed)) {
            throw RepoError.denied(who.user() + " is not " + (needed == Role.ADMIN ? "an " : "a ") + needed.label()
                    + " of team " + team);
        }
    }

    /** Read access to a model: a role in its team, a share to one of the caller's teams, or a pod token for it. */
    void requireRead(Identity who, String team, String model) throws FsException, RepoError {
        if (who.scoped()) {
            if (who.scopeTeam().equals(team) && who.scopeModel().equals(model)) {
                return;
            }
            throw RepoError.denied("this token may only read " + who.scopeTeam() + "/" + who.scopeModel());
        }
        if (roleOf(who, team) != null) {
            return;
        }
        for (RepoRecord r : store.list("share/" + team + "/" + model + "/", null, 1000)) {
            String to = r.key().substring(("share/" + team + "/" + model + "/").length());
            if (roleOf(who, to) != null) {
                return;
            }
        }
        throw RepoError.denied(who.user() + " may not read " + team + "/" + model);
    }

    // ---- models ----

    private Rec needModel(String team, String model) throws FsException, RepoError {
        return get("model/" + team + "/" + model).orElseThrow(() -> RepoError.notFound("no model " + team + "/" + model));
    }

    JsonObject createModel(Identity who, String team, String model) throws FsException, RepoError {
        team(team);
        model(model);
        requireRole(who, team, Role.WRITER);
        needTeam(team);
        long teamDir = mkdirIfAbsent(io.hangar.spi.meta.MetadataEngine.ROOT, team);
        mkdirIfAbsent(teamDir, model);
        String key = "model/" + team + "/" + model;
        return change(who, team, model, "model.create", team + "/" + model, (conds, writes) -> {
            if (get(key).isPresent()) {
                throw RepoError.conflict("model " + team + "/" + model + " exists");
            }
            conds.add(RepoCondition.absent(key));
            JsonObject m = new JsonObject().put("team", team).put("name", model).put("versions", 0)
                    .put("created", System.currentTimeMillis()).put("createdBy", who.user());
            writes.add(put(key, m));
            return m;
        });
    }

    JsonArray models(Identity who, String team) throws FsException, RepoError {
        team(team);
        JsonArray out = new JsonArray();
        boolean member = roleOf(who, team) != null;
        for (RepoRecord r : store.list("model/" + team + "/", null, 1000)) {
            JsonObject m = new JsonObject(new String(r.value(), UTF_8));
            try {
                if (!member) {
                    requireRead(who, team, m.getString("name"));
                }
                out.add(m);
            } catch (RepoError hidden) {
                // Another team's models are not listed unless shared.
            }
        }
        if (!member && out.isEmpty()) {
            throw RepoError.denied(who.user() + " may not list the models of team " + team);
        }
        return out;
    }

    // ---- versions ----

    /** A version by number or tag. */
    JsonObject version(Identity who, String team, String model, String ref) throws FsException, RepoError {
        team(team);
        model(model);
        requireRead(who, team, model);
        JsonObject v = resolve(team, model, ref).value();
        if (who.scoped() && State.of(v).compareTo(State.RELEASED) < 0) {
            throw RepoError.denied("this token may only read released versions; " + team + "/" + model + ":" + ref
                    + " is " + v.getString("state"));
        }
        return v;
    }

    private Rec resolve(String team, String model, String ref) throws FsException, RepoError {
        int n;
        if (ref != null && ref.matches("v?[0-9]{1,8}")) {
            n = Integer.parseInt(ref.startsWith("v") ? ref.substring(1) : ref);
        } else {
            tag(ref);
            Rec t = get("tag/" + team + "/" + model + "/" + ref)
                    .orElseThrow(() -> RepoError.notFound("no tag " + ref + " on " + team + "/" + model));
            n = t.value().getInteger("version");
        }
        Rec v = get(versionKey(team, model, n))
                .orElseThrow(() -> RepoError.notFound("no version " + n + " of " + team + "/" + model));
        if (State.of(v.value()) == State.TRASHED) {
            throw RepoError.notFound(team + "/" + model + ":" + n + " is in the trash (restore it first)");
        }
        return v;
    }

    JsonArray versions(Identity who, String team, String model) throws FsException, RepoError {
        team(team);
        model(model);
        requireRead(who, team, model);
        needModel(team, model);
        JsonArray out = new JsonArray();
        String after = null;
        while (true) {
            List<RepoRecord> page = store.list("version/" + team + "/" + model + "/", after, 1000);
            for (RepoRecord r : page) {
                JsonObject v = new JsonObject(new String(r.value(), UTF_8));
                State st = State.of(v);
                if (st != State.TRASHED && (!who.scoped() || st.compareTo(State.RELEASED) >= 0)) {
                    out.add(v);
                }
            }
            if (page.size() < 1000) {
                return out;
            }
            after = page.get(page.size() - 1).key();
        }
    }

    /**
     * A new draft version; with {@code from}, its tree starts as a metadata-only clone of that version (no data
     * is copied, whatever its size) and its manifest records carry over.
     */
    JsonObject createVersion(Identity who, String team, String model, String from, JsonObject labels)
            throws FsException, RepoError {
        team(team);
        model(model);
        requireRole(who, team, Role.WRITER);
        String mkey = "model/" + team + "/" + model;
        Rec source = from == null ? null : resolve(team, model, from);
        // Take the number first: a crash after this leaves a gap in the numbering, never two versions in one dir.
        int n = change(who, team, model, "version.allocate", team + "/" + model, (conds, writes) -> {
            Rec m = needModel(team, model);
            conds.add(at(mkey, Optional.of(m)));
            int next = m.value().getInteger("versions") + 1;
            writes.add(put(mkey, m.value().copy().put("versions", next)));
            return next;
        });
        long modelDir = volume.resolve("/" + team + "/" + model).attr().inode();
        String dirName = "v" + n;
        if (source == null) {
            mkdirIfAbsent(modelDir, dirName);
        } else {
            int sn = source.value().getInteger("number");
            long srcDir = volume.resolve(versionPath(team, model, sn)).attr().inode();
            volume.clone(ROOT, srcDir, modelDir, dirName);
            carryManifest(team, model, sn, n);
        }
        long now = System.currentTimeMillis();
        JsonObject v = new JsonObject().put("team", team).put("model", model).put("number", n)
                .put("state", State.DRAFT.label()).put("path", versionPath(team, model, n))
                .put("created", now).put("createdBy", who.user()).put("modified", now).put("modifiedBy", who.user())
                .put("labels", labels == null ? new JsonObject() : labels).put("approvals", new JsonArray());
        if (source != null) {
            v.put("parent", source.value().getInteger("number"));
        }
        String vkey = versionKey(team, model, n);
        return change(who, team, model, "version.create", team + "/" + model + ":" + n, (conds, writes) -> {
            conds.add(RepoCondition.absent(vkey));
            writes.add(put(vkey, v));
            return v;
        });
    }

    /** Copies the manifest records of version {@code from} to the clone {@code to}, with the clone's inodes. */
    private void carryManifest(String team, String model, int from, int to) throws FsException, RepoError {
        String prefix = "file/" + team + "/" + model + "/" + String.format("%08d", from) + "/";
        String after = null;
        while (true) {
            List<RepoRecord> page = store.list(prefix, after, BATCH);
            List<RepoWrite> writes = new ArrayList<>();
            for (RepoRecord r : page) {
                String path = r.key().substring(prefix.length());
                JsonObject f = new JsonObject(new String(r.value(), UTF_8));
                try {
                    Attr a = volume.resolve(versionPath(team, model, to) + "/" + path).attr();
                    writes.add(put(fileKey(team, model, to, path), fileRecord(path, a, f.getString("md5"),
                            f.getString("by"))));
                } catch (FsException gone) {
                    // Not in the clone (it changed after the manifest was written): submit computes it again.
                }
            }
            if (!writes.isEmpty()) {
                store.commit(List.of(), writes, List.of());
            }
            if (page.size() < BATCH) {
                return;
            }
            after = page.get(page.size() - 1).key();
        }
    }

    private static JsonObject fileRecord(String path, Attr a, String md5, String by) {
        return new JsonObject().put("path", path).put("size", a.length()).put("md5", md5).put("inode", a.inode())
                .put("ctime", a.ctimeNs()).put("by", by).put("at", System.currentTimeMillis());
    }

    /** A version the caller may write files into: a draft, and the caller a writer of its team. */
    Rec writableVersion(Identity who, String team, String model, int n) throws FsException, RepoError {
        team(team);
        model(model);
        requireRole(who, team, Role.WRITER);
        Rec v = get(versionKey(team, model, n))
                .orElseThrow(() -> RepoError.notFound("no version " + n + " of " + team + "/" + model));
        if (State.of(v.value()) != State.DRAFT) {
            throw RepoError.denied(team + "/" + model + ":" + n + " is " + v.value().getString("state")
                    + ": only drafts can change");
        }
        return v;
    }

    /** The directory a file of a draft goes into (created as needed) and its name. */
    record Place(long dir, String name) {
    }

    Place placeFor(String team, String model, int n, String path) throws FsException, RepoError {
        List<String> names = path(path);
        long dir = volume.resolve(versionPath(team, model, n)).attr().inode();
        for (int i = 0; i < names.size() - 1; i++) {
            dir = mkdirIfAbsent(dir, names.get(i));
        }
        return new Place(dir, names.get(names.size() - 1));
    }

    private long mkdirIfAbsent(long parent, String name) throws FsException {
        try {
            return volume.lookup(parent, name).attr().inode();
        } catch (FsException e) {
            if (e.errno() != Errno.ENOENT) {
                throw e;
            }
        }
        try {
            return volume.mkdir(ROOT, parent, name, 0755).attr().inode();
        } catch (FsException e) {
            if (e.errno() == Errno.EEXIST) {
                return volume.lookup(parent, name).attr().inode();
            }
            throw e;
        }
    }

    /**
     * Records a file that arrived in a draft with its MD5, and indexes the MD5 for dedup. If the MD5 was
     * already stored in the team (and that file is unchanged), the new file is replaced by a clone of the
     * stored one, so its freshly written blocks are released and the volume keeps one copy.
     */
    JsonObject recordFile(Identity who, String team, String model, int n, String path, Place place, String md5)
            throws FsException, RepoError {
        writableVersion(who, team, model, n);
        Entry e = volume.lookup(place.dir(), place.name());
        boolean deduplicated = false;
        Attr known = known(team, md5);
        if (known != null && known.inode() != e.attr().inode() && known.length() == e.attr().length()) {
            replaceByClone(known.inode(), place);
            deduplicated = true;
        }
        return record(who, team, model, n, path, place, md5, deduplicated);
    }

    private JsonObject record(Identity who, String team, String model, int n, String path, Place place, String md5,
            boolean deduplicated) throws FsException, RepoError {
        Attr a = volume.lookup(place.dir(), place.name()).attr();
        JsonObject f = fileRecord(path, a, md5, who.user());
        String vkey = versionKey(team, model, n);
        String mk = md5Key(team, md5);
        change(who, team, model, "file.put", team + "/" + model + ":" + n + "/" + path, (conds, writes) -> {
            Rec v = get(vkey).orElseThrow(() -> RepoError.notFound("version gone"));
            if (State.of(v.value()) != State.DRAFT) {
                throw RepoError.denied(team + "/" + model + ":" + n + " is no longer a draft");
            }
            conds.add(at(vkey, Optional.of(v)));
            writes.add(put(fileKey(team, model, n, path), f));
            writes.add(put(sizeKey(team, a.length()), new JsonObject()));
            writes.add(put(mk, new JsonObject().put("inode", a.inode()).put("size", a.length())
                    .put("ctime", a.ctimeNs()).put("path", versionPath(team, model, n) + "/" + path)));
            writes.add(put(vkey, v.value().copy().put("modified", System.currentTimeMillis())
                    .put("modifiedBy", who.user())));
            return f.copy().put("deduplicated", deduplicated);
        });
        JsonObject out = f.copy().put("deduplicated", deduplicated);
        out.remove("inode");
        out.remove("ctime");
        return out;
    }

    private void replaceByClone(long source, Place place) throws FsException {
        String tmp = ".dedup-" + Long.toHexString(System.nanoTime());
        volume.clone(ROOT, source, place.dir(), tmp);
        try {
            volume.rename(ROOT, place.dir(), tmp, place.dir(), place.name(), 0);
        } catch (FsException e) {
            volume.unlink(ROOT, place.dir(), tmp);
            throw e;
        }
    }

    /** The stored file of the team with this MD5, if it is still there unchanged; null otherwise. */
    private Attr known(String team, String md5) throws FsException {
        Optional<Rec> r = get(md5Key(team, md5));
        if (r.isEmpty()) {
            return null;
        }
        JsonObject k = r.get().value();
        try {
            Attr a = volume.getattr(k.getLong("inode"));
            if (a.type() == FileType.FILE && a.length() == k.getLong("size") && a.ctimeNs() == k.getLong("ctime")
                    && a.nlink() > 0) {
                return a;
            }
        } catch (FsException gone) {
            if (gone.errno() != Errno.ENOENT) {
                throw gone;
            }
        }
        return null;
    }

    /** Which of these MD5s the team already stores (the push client then links instead of uploading). */
    JsonArray knownMd5s(Identity who, String team, JsonArray md5s) throws FsException, RepoError {
        team(team);
        requireRole(who, team, Role.WRITER);
        if (md5s == null || md5s.size() > 1000) {
            throw RepoError.bad("give 1 to 1000 MD5s per request");
        }
        JsonArray out = new JsonArray();
        for (Object o : md5s) {
            String m = md5(o instanceof String s ? s : null);
            if (known(team, m) != null) {
                out.add(m);
            }
        }
        return out;
    }

    /** Which of these file sizes the team has stored (a file of another size cannot be a duplicate). */
    JsonArray knownSizes(Identity who, String team, JsonArray sizes) throws FsException, RepoError {
        team(team);
        requireRole(who, team, Role.WRITER);
        if (sizes == null || sizes.size() > 1000) {
            throw RepoError.bad("give 1 to 1000 sizes per request");
        }
        JsonArray out = new JsonArray();
        for (Object o : sizes) {
            if (!(o instanceof Number n) || n.longValue() < 0) {
                throw RepoError.bad("sizes are non-negative integers, not " + o);
            }
            if (store.get(sizeKey(team, n.longValue())).isPresent()) {
                out.add(n.longValue());
            }
        }
        return out;
    }

    /** Adds a file to a draft as a clone of the team's stored file with that MD5; 404 if none is stored. */
    JsonObject link(Identity who, String team, String model, int n, String path, String md5, long size)
            throws FsException, RepoError {
        writableVersion(who, team, model, n);
        md5(md5);
        Attr a = known(team, md5);
        if (a == null || a.length() != size) {
            throw RepoError.notFound("no stored file of team " + team + " has MD5 " + md5 + " and size " + size
                    + ": upload it");
        }
        Place place = placeFor(team, model, n, path);
        String tmp = ".link-" + Long.toHexString(System.nanoTime());
        volume.clone(ROOT, a.inode(), place.dir(), tmp);
        try {
            volume.rename(ROOT, place.dir(), tmp, place.dir(), place.name(), 0);
        } catch (FsException e) {
            volume.unlink(ROOT, place.dir(), tmp);
            throw e;
        }
        return record(who, team, model, n, path, place, md5, true);
    }

    JsonObject manifest(Identity who, String team, String model, String ref, String after, int limit)
            throws FsException, RepoError {
        JsonObject v = version(who, team, model, ref);
        if (limit < 1 || limit > 1000) {
            throw RepoError.bad("limit must be 1..1000");
        }
        int n = v.getInteger("number");
        String prefix = "file/" + team + "/" + model + "/" + String.format("%08d", n) + "/";
        List<RepoRecord> page = store.list(prefix, after == null ? null : prefix + after, limit);
        JsonArray files = new JsonArray();
        for (RepoRecord r : page) {
            JsonObject f = new JsonObject(new String(r.value(), UTF_8));
            f.remove("inode");
            f.remove("ctime");
            files.add(f);
        }
        JsonObject out = new JsonObject().put("version", v).put("files", files);
        if (page.size() == limit) {
            out.put("next", page.get(page.size() - 1).key().substring(prefix.length()));
        }
        return out;
    }

    // ---- lifecycle ----

    /**
     * draft → submitted: the tree is frozen (no frontend can change it any more), then every file's size and
     * MD5 go into the manifest; files whose MD5 is not known from their upload (written through a mount) are
     * read once. Idempotent: a retry after a crash freezes again (a no-op) and rebuilds the manifest.
     */
    JsonObject submit(Identity who, String team, String model, int n) throws FsException, RepoError {
        Rec v = writableVersion(who, team, model, n);
        long dir = volume.resolve(versionPath(team, model, n)).attr().inode();
        volume.freeze(ROOT, dir);
        if (!volume.soleClient()) {
            // Another process may have accepted a write until its frozen-check expired: the manifest comes
            // after. Alone on the metadata (the embedded runtime, most often), there is no one to wait for.
            sleep(FROZEN_SETTLE_MS);
            // ... and may have made nodes the first walk missed: the second walk freezes them too.
            volume.freeze(ROOT, dir);
        }
        long[] totals = manifestTree(who, team, model, n, dir);
        String vkey = versionKey(team, model, n);
        return change(who, team, model, "version.submit", team + "/" + model + ":" + n, (conds, writes) -> {
            Rec now = get(vkey).orElseThrow();
            if (State.of(now.value()) != State.DRAFT) {
                throw RepoError.conflict(team + "/" + model + ":" + n + " is " + now.value().getString("state"));
            }
            conds.add(at(vkey, Optional.of(now)));
            JsonObject s = now.value().copy().put("state", State.SUBMITTED.label()).put("files", totals[0])
                    .put("bytes", totals[1]).put("submitted", System.currentTimeMillis()).put("submittedBy", who.user());
            writes.add(put(vkey, s));
            return s;
        });
    }

    /** Writes the manifest of a frozen tree: one record per regular file; returns {files, bytes}. */
    private long[] manifestTree(Identity who, String team, String model, int n, long dir)
            throws FsException, RepoError {
        long[] totals = new long[2];
        Deque<Object[]> dirs = new ArrayDeque<>();
        dirs.push(new Object[] {dir, ""});
        List<RepoWrite> writes = new ArrayList<>();
        while (!dirs.isEmpty()) {
            Object[] d = dirs.pop();
            long ino = (Long) d[0];
            String prefix = (String) d[1];
            String after = null;
            while (true) {
                List<DirEntry> page = volume.readdir(ino, after, 1000, true);
                for (DirEntry e : page) {
                    String path = prefix + e.name();
                    if (e.type() == FileType.DIRECTORY) {
                        dirs.push(new Object[] {e.inode(), path + "/"});
                    } else if (e.type() == FileType.FILE) {
                        Attr a = e.attr() != null ? e.attr() : volume.getattr(e.inode());
                        String fk = fileKey(team, model, n, path);
                        Optional<Rec> f = get(fk);
                        String md5;
                        String by;
                        if (f.isPresent() && f.get().value().getLong("inode") == a.inode()
                                && f.get().value().getLong("ctime") == a.ctimeNs()
                                && f.get().value().getLong("size") == a.length()) {
                            md5 = f.get().value().getString("md5");
                            by = f.get().value().getString("by");
                        } else {
                            md5 = md5Of(a.inode());
                            by = f.map(r -> r.value().getString("by")).orElse("mount");
                        }
                        writes.add(put(fk, fileRecord(path, a, md5, by)));
                        writes.add(put(sizeKey(team, a.length()), new JsonObject()));
                        writes.add(put(md5Key(team, md5), new JsonObject().put("inode", a.inode())
                                .put("size", a.length()).put("ctime", a.ctimeNs())
                                .put("path", versionPath(team, model, n) + "/" + path)));
                        totals[0]++;
                        totals[1] += a.length();
                        if (writes.size() >= BATCH) {
                            store.commit(List.of(), writes, List.of());
                            writes = new ArrayList<>();
                        }
                    }
                }
                if (page.size() < 1000) {
                    break;
                }
                after = page.get(page.size() - 1).name();
            }
        }
        if (!writes.isEmpty()) {
            store.commit(List.of(), writes, List.of());
        }
        return totals;
    }

    private String md5Of(long inode) throws FsException {
        MessageDigest d = md5Digest();
        byte[] buf = new byte[1 << 20];
        try (FileHandle h = volume.open(ROOT, inode, OpenFlags.RDONLY)) {
            long pos = 0;
            int r;
            while ((r = h.read(pos, buf, 0, buf.length)) > 0) {
                d.update(buf, 0, r);
                pos += r;
            }
        }
        return HexFormat.of().formatHex(d.digest());
    }

    static MessageDigest md5Digest() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Records a team administrator's approval of a submitted version; not the uploader's own. */
    JsonObject approve(Identity who, String team, String model, int n) throws FsException, RepoError {
        team(team);
        model(model);
        requireRole(who, team, Role.ADMIN);
        String vkey = versionKey(team, model, n);
        return change(who, team, model, "version.approve", team + "/" + model + ":" + n, (conds, writes) -> {
            Rec v = get(vkey).orElseThrow(() -> RepoError.notFound("no version " + n + " of " + team + "/" + model));
            if (State.of(v.value()) != State.SUBMITTED) {
                throw RepoError.conflict(team + "/" + model + ":" + n + " is " + v.value().getString("state")
                        + ": only submitted versions are approved");
            }
            if (who.user().equals(v.value().getString("createdBy"))) {
                throw RepoError.denied(who.user() + " uploaded " + team + "/" + model + ":" + n
                        + " and may not approve it: another team admin must");
            }
            conds.add(at(vkey, Optional.of(v)));
            JsonArray approvals = v.value().getJsonArray("approvals", new JsonArray()).copy();
            approvals.add(new JsonObject().put("user", who.user()).put("at", System.currentTimeMillis()));
            JsonObject a = v.value().copy().put("approvals", approvals);
            writes.add(put(vkey, a));
            return a;
        });
    }

    /** submitted and approved → released, with an optional tag moved to it in the same commit. */
    JsonObject release(Identity who, String team, String model, int n, String tag) throws FsException, RepoError {
        team(team);
        model(model);
        requireRole(who, team, Role.ADMIN);
        if (tag != null) {
            tag(tag);
        }
        String vkey = versionKey(team, model, n);
        return change(who, team, model, "version.release", team + "/" + model + ":" + n
                + (tag == null ? "" : " tag " + tag), (conds, writes) -> {
                    Rec v = get(vkey).orElseThrow(() -> RepoError.notFound("no version " + n));
                    if (State.of(v.value()) != State.SUBMITTED) {
                        throw RepoError.conflict(team + "/" + model + ":" + n + " is " + v.value().getString("state")
                                + ": only submitted versions are released");
                    }
                    if (v.value().getJsonArray("approvals", new JsonArray()).isEmpty()) {
                        throw RepoError.denied(team + "/" + model + ":" + n + " needs an approval first");
                    }
                    conds.add(at(vkey, Optional.of(v)));
                    JsonObject r = v.value().copy().put("state", State.RELEASED.label())
                            .put("released", System.currentTimeMillis()).put("releasedBy", who.user());
                    writes.add(put(vkey, r));
                    if (tag != null) {
                        tagWrite(who, team, model, tag, n, conds, writes);
                    }
                    return r;
                });
    }

    JsonObject deprecate(Identity who, String team, String model, int n) throws FsException, RepoError {
        team(team);
        model(model);
        requireRole(who, team, Role.ADMIN);
        String vkey = versionKey(team, model, n);
        return change(who, team, model, "version.deprecate", team + "/" + model + ":" + n, (conds, writes) -> {
            Rec v = get(vkey).orElseThrow(() -> RepoError.notFound("no version " + n));
            if (State.of(v.value()) != State.RELEASED) {
                throw RepoError.conflict(team + "/" + model + ":" + n + " is " + v.value().getString("state")
                        + ": only released versions are deprecated");
            }
            conds.add(at(vkey, Optional.of(v)));
            JsonObject d = v.value().copy().put("state", State.DEPRECATED.label())
                    .put("deprecated", System.currentTimeMillis()).put("deprecatedBy", who.user());
            writes.add(put(vkey, d));
            return d;
        });
    }

    // ---- tags ----

    private void tagWrite(Identity who, String team, String model, String tag, int n, List<RepoCondition> conds,
            List<RepoWrite> writes) throws FsException {
        String key = "tag/" + team + "/" + model + "/" + tag;
        conds.add(at(key, get(key)));
        writes.add(put(key, new JsonObject().put("tag", tag).put("version", n).put("by", who.user())
                .put("at", System.currentTimeMillis())));
    }

    /** Points a tag at a version (moving it atomically if it pointed elsewhere). */
    JsonObject tag(Identity who, String team, String model, String tag, String ref) throws FsException, RepoError {
        team(team);
        model(model);
        tag(tag);
        requireRole(who, team, Role.WRITER);
        return change(who, team, model, "tag.set", team + "/" + model + ":" + tag + " -> " + ref, (conds, writes) -> {
            Rec v = resolve(team, model, ref);
            int n = v.value().getInteger("number");
            conds.add(at(versionKey(team, model, n), Optional.of(v)));
            tagWrite(who, team, model, tag, n, conds, writes);
            return new JsonObject().put("tag", tag).put("version", n);
        });
    }

    JsonObject untag(Identity who, String team, String model, String tag) throws FsException, RepoError {
        team(team);
        model(model);
        tag(tag);
        requireRole(who, team, Role.WRITER);
        String key = "tag/" + team + "/" + model + "/" + tag;
        return change(who, team, model, "tag.delete", team + "/" + model + ":" + tag, (conds, writes) -> {
            Optional<Rec> t = get(key);
            if (t.isEmpty()) {
                throw RepoError.notFound("no tag " + tag);
            }
            conds.add(at(key, t));
            writes.add(RepoWrite.delete(key));
            return new JsonObject().put("tag", tag);
        });
    }

    JsonArray tags(Identity who, String team, String model) throws FsException, RepoError {
        team(team);
        model(model);
        requireRead(who, team, model);
        JsonArray out = new JsonArray();
        for (RepoRecord r : store.list("tag/" + team + "/" + model + "/", null, 1000)) {
            out.add(new JsonObject(new String(r.value(), UTF_8)));
        }
        return out;
    }

    // ---- shares ----

    JsonObject share(Identity who, String team, String model, String toTeam, boolean on) throws FsException, RepoError {
        team(team);
        model(model);
        team(toTeam);
        requireRole(who, team, Role.ADMIN);
        String key = "share/" + team + "/" + model + "/" + toTeam;
        return change(who, team, model, on ? "share.add" : "share.remove", team + "/" + model + " -> " + toTeam,
                (conds, writes) -> {
                    conds.add(at("model/" + team + "/" + model, Optional.of(needModel(team, model))));
                    conds.add(at("team/" + toTeam, Optional.of(needTeam(toTeam))));
                    JsonObject s = new JsonObject().put("team", team).put("model", model).put("to", toTeam)
                            .put("access", "read");
                    writes.add(on ? put(key, s.copy().put("by", who.user())) : RepoWrite.delete(key));
                    return s;
                });
    }

    // ---- trash ----

    private static final String TRASH_DIR = ".trash";

    /** {@code /.trash}, only root's: trashed files are nobody's to read through a mount until restored. */
    private long trashRoot() throws FsException {
        long root = io.hangar.spi.meta.MetadataEngine.ROOT;
        try {
            return volume.lookup(root, TRASH_DIR).attr().inode();
        } catch (FsException e) {
            if (e.errno() != Errno.ENOENT) {
                throw e;
            }
        }
        try {
            return volume.mkdir(ROOT, root, TRASH_DIR, 0700).attr().inode();
        } catch (FsException e) {
            if (e.errno() == Errno.EEXIST) {
                return volume.lookup(root, TRASH_DIR).attr().inode();
            }
            throw e;
        }
    }

    private static String trashKey(String team, String id) {
        return "trash/" + team + "/" + id;
    }

    private static String newTrashId() {
        byte[] b = new byte[6];
        new java.security.SecureRandom().nextBytes(b);
        return String.format("%013d", System.currentTimeMillis()) + "-" + HexFormat.of().formatHex(b);
    }

    /**
     * Moves a version to the trash: it is hidden (reads answer 404 "in the trash") but kept, blocks and all,
     * until it is restored or the trash entry expires. A team admin may trash any version, a writer the drafts
     * they created.
     */
    JsonObject trashVersion(Identity who, String team, String model, int n, long keepMs) throws FsException, RepoError {
        team(team);
        model(model);
        requireRole(who, team, Role.WRITER);
        String vkey = versionKey(team, model, n);
        String id = newTrashId();
        return change(who, team, model, "version.trash", team + "/" + model + ":" + n, (conds, writes) -> {
            Rec v = get(vkey).orElseThrow(() -> RepoError.notFound("no version " + n + " of " + team + "/" + model));
            State st = State.of(v.value());
            if (st == State.TRASHED) {
                throw RepoError.conflict(team + "/" + model + ":" + n + " is in the trash already");
            }
            if (roleOf(who, team) != Role.ADMIN && !(st == State.DRAFT && who.user().equals(v.value().getString("createdBy")))) {
                throw RepoError.denied(who.user() + " may trash only their own drafts; a team admin any version");
            }
            conds.add(at(vkey, Optional.of(v)));
            long now = System.currentTimeMillis();
            writes.add(put(vkey, v.value().copy().put("state", State.TRASHED.label()).put("trashedFrom", st.label())
                    .put("trash", id)));
            JsonObject t = new JsonObject().put("id", id).put("kind", "version").put("team", team).put("model", model)
                    .put("version", n).put("at", now).put("by", who.user()).put("expires", now + keepMs);
            writes.add(put(trashKey(team, id), t));
            return t;
        });
    }

    /** Moves a file of a draft to the trash, with the path it is restored to. */
    JsonObject trashFile(Identity who, String team, String model, int n, String path, long keepMs)
            throws FsException, RepoError {
        writableVersion(who, team, model, n);
        List<String> names = path(path);
        Entry e = volume.resolve(versionPath(team, model, n) + "/" + path);
        if (e.attr().type() != FileType.FILE) {
            throw RepoError.bad(path + " is not a file");
        }
        long parent = volume.resolve(versionPath(team, model, n) + (names.size() > 1
                ? "/" + path.substring(0, path.lastIndexOf('/')) : "")).attr().inode();
        long trashDir = mkdirIfAbsent(trashRoot(), team);
        String id = newTrashId();
        String fk = fileKey(team, model, n, path);
        Optional<Rec> f = get(fk);
        volume.rename(ROOT, parent, names.get(names.size() - 1), trashDir, id, 0);
        long now = System.currentTimeMillis();
        JsonObject t = new JsonObject().put("id", id).put("kind", "file").put("team", team).put("model", model)
                .put("version", n).put("path", path).put("size", e.attr().length()).put("at", now)
                .put("by", who.user()).put("expires", now + keepMs);
        f.ifPresent(r -> t.put("md5", r.value().getString("md5")));
        return change(who, team, model, "file.trash", team + "/" + model + ":" + n + "/" + path, (conds, writes) -> {
            writes.add(RepoWrite.delete(fk));
            writes.add(put(trashKey(team, id), t));
            return t;
        });
    }

    JsonArray trash(Identity who, String team) throws FsException, RepoError {
        team(team);
        requireRole(who, team, Role.WRITER);
        JsonArray out = new JsonArray();
        String after = null;
        while (true) {
            List<RepoRecord> page = store.list("trash/" + team + "/", after, 1000);
            for (RepoRecord r : page) {
                out.add(new JsonObject(new String(r.value(), UTF_8)));
            }
            if (page.size() < 1000 || out.size() >= 10_000) {
                return out;
            }
            after = page.get(page.size() - 1).key();
        }
    }

    /** Puts a trashed version back in its state, or a trashed file back at its path (409 if it is taken). */
    JsonObject restore(Identity who, String team, String id) throws FsException, RepoError {
        team(team);
        requireRole(who, team, Role.WRITER);
        Rec t = get(trashKey(team, id)).orElseThrow(() -> RepoError.notFound("no trash entry " + id + " in " + team));
        JsonObject e = t.value();
        String model = e.getString("model");
        int n = e.getInteger("version");
        String vkey = versionKey(team, model, n);
        if (e.getString("kind").equals("version")) {
            return change(who, team, model, "version.restore", team + "/" + model + ":" + n, (conds, writes) -> {
                Rec v = get(vkey).orElseThrow(() -> RepoError.notFound("version " + n + " is gone"));
                conds.add(at(trashKey(team, id), Optional.of(t)));
                conds.add(at(vkey, Optional.of(v)));
                JsonObject back = v.value().copy().put("state", v.value().getString("trashedFrom"));
                back.remove("trashedFrom");
                back.remove("trash");
                writes.add(put(vkey, back));
                writes.add(RepoWrite.delete(trashKey(team, id)));
                return back;
            });
        }
        writableVersion(who, team, model, n);
        String path = e.getString("path");
        Place place = placeFor(team, model, n, path);
        long trashDir = volume.resolve("/" + TRASH_DIR + "/" + team).attr().inode();
        try {
            volume.rename(ROOT, trashDir, id, place.dir(), place.name(), io.hangar.fs.RenameFlags.NOREPLACE);
        } catch (FsException x) {
            if (x.errno() == Errno.EEXIST) {
                throw RepoError.conflict(path + " exists in " + team + "/" + model + ":" + n + " again: move it first");
            }
            throw x;
        }
        Attr a = volume.lookup(place.dir(), place.name()).attr();
        return change(who, team, model, "file.restore", team + "/" + model + ":" + n + "/" + path, (conds, writes) -> {
            writes.add(RepoWrite.delete(trashKey(team, id)));
            if (e.getString("md5") != null) {
                writes.add(put(fileKey(team, model, n, path), fileRecord(path, a, e.getString("md5"), e.getString("by"))));
            }
            return e.copy().put("restored", true);
        });
    }

    /** Deletes a trash entry for good: a version's tree (frozen or not) with its records, or a file. */
    JsonObject purge(Identity who, String team, String id) throws FsException, RepoError {
        team(team);
        requireRole(who, team, Role.ADMIN);
        return purgeEntry(who, team, id);
    }

    private JsonObject purgeEntry(Identity who, String team, String id) throws FsException, RepoError {
        Rec t = get(trashKey(team, id)).orElseThrow(() -> RepoError.notFound("no trash entry " + id + " in " + team));
        JsonObject e = t.value();
        String model = e.getString("model");
        int n = e.getInteger("version");
        if (e.getString("kind").equals("version")) {
            try {
                long modelDir = volume.resolve("/" + team + "/" + model).attr().inode();
                volume.purge(ROOT, modelDir, "v" + n);
            } catch (FsException gone) {
                if (gone.errno() != Errno.ENOENT) {
                    throw gone;
                }
            }
            String prefix = "file/" + team + "/" + model + "/" + String.format("%08d", n) + "/";
            while (true) {
                List<RepoRecord> page = store.list(prefix, null, BATCH);
                if (page.isEmpty()) {
                    break;
                }
                store.commit(List.of(), page.stream().map(r -> RepoWrite.delete(r.key())).toList(), List.of());
            }
            List<RepoWrite> tags = new ArrayList<>();
            for (RepoRecord r : store.list("tag/" + team + "/" + model + "/", null, 1000)) {
                if (new JsonObject(new String(r.value(), UTF_8)).getInteger("version") == n) {
                    tags.add(RepoWrite.delete(r.key()));
                }
            }
            return change(who, team, model, "version.purge", team + "/" + model + ":" + n, (conds, writes) -> {
                writes.addAll(tags);
                writes.add(RepoWrite.delete(versionKey(team, model, n)));
                writes.add(RepoWrite.delete(trashKey(team, id)));
                return e;
            });
        }
        try {
            volume.purge(ROOT, volume.resolve("/" + TRASH_DIR + "/" + team).attr().inode(), id);
        } catch (FsException gone) {
            if (gone.errno() != Errno.ENOENT) {
                throw gone;
            }
        }
        return change(who, team, model, "file.purge", team + "/" + model + ":" + n + "/" + e.getString("path"),
                (conds, writes) -> {
                    writes.add(RepoWrite.delete(trashKey(team, id)));
                    return e;
                });
    }

    /** Purges every trash entry past its expiry; returns how many. Bounded per call by {@code max}. */
    int expireTrash(long nowMs, int max) throws FsException, RepoError {
        Identity system = new Identity("system", true, null, null, "trash-expiry");
        int purged = 0;
        String after = null;
        while (purged < max) {
            List<RepoRecord> page = store.list("trash/", after, 1000);
            for (RepoRecord r : page) {
                JsonObject e = new JsonObject(new String(r.value(), UTF_8));
                if (e.getLong("expires") <= nowMs && purged < max) {
                    purgeEntry(system, e.getString("team"), e.getString("id"));
                    purged++;
                }
            }
            if (page.size() < 1000) {
                break;
            }
            after = page.get(page.size() - 1).key();
        }
        return purged;
    }

    // ---- audit ----

    /** Audit entries: a site administrator reads all; a team administrator those of their team. */
    JsonObject audit(Identity who, String team, String user, String model, long fromMs, long toMs, long after,
            int limit) throws FsException, RepoError {
        if (team == null) {
            siteAdmin(who);
        } else {
            team(team);
            requireRole(who, team, Role.ADMIN);
        }
        if (limit < 1 || limit > 1000) {
            throw RepoError.bad("limit must be 1..1000");
        }
        AuditPage p = store.audit(new AuditQuery(team, user, model, fromMs, toMs, after, limit));
        JsonArray entries = new JsonArray();
        for (AuditEntry e : p.entries()) {
            JsonObject d = new JsonObject(new String(e.detail(), UTF_8));
            entries.add(d.put("seq", e.seq()).put("time", e.timeMs()).put("team", e.team()).put("user", e.user())
                    .put("model", e.model()));
        }
        return new JsonObject().put("entries", entries).put("next", p.next()).put("end", p.end());
    }

    private static void sleep(long ms) throws FsException {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(Errno.EIO, "interrupted");
        }
    }
}
