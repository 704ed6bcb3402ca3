package io.hangar.frontend.http.repo;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.fs.Caller;
import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.fs.OpenFlags;
import io.hangar.spi.repo.RepositoryStore;
import io.hangar.spi.repo.RepositoryStoreProvider;
import io.hangar.vfs.FileHandle;
import io.hangar.vfs.standalone.OpenVolume;
import io.hangar.vfs.standalone.Volumes;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The repository's rules on a real volume (SQLite metadata, file store) and its real repository store: roles,
 * the lifecycle and who may move it, freezing, tags, shares, pod tokens, dedup and snapshots. Read-backs of
 * records go through a second repository on a fresh store client. The REST layer and the CLI are tested end
 * to end by integration-tests/repo.
 */
class RepositoryTest {
    @TempDir
    Path dir;
    private String meta;
    private OpenVolume volume;
    private RepositoryStore store;
    private Repository repo;
    private Identity admin;
    private Identity alice;
    private Identity bob;
    private Identity carol;

    private RepositoryStoreProvider provider() {
        String scheme = URI.create(meta).getScheme();
        return ServiceLoader.load(RepositoryStoreProvider.class).stream().map(ServiceLoader.Provider::get)
                .filter(p -> p.schemes().contains(scheme)).findFirst().orElseThrow();
    }

    /** The metadata URL of a fresh, empty backend: a new SQLite file here; a new Redis prefix in the subclass. */
    protected String newMetaUrl(Path dir) throws Exception {
        return "sqlite://" + dir.resolve("meta.db");
    }

    @BeforeEach
    void open() throws Exception {
        meta = newMetaUrl(dir);
        Volumes.format(meta, "repo", "file://" + dir.resolve("chunks"), Map.of());
        volume = Volumes.open(meta, Map.of());
        store = provider().open(URI.create(meta));
        repo = new Repository(store, volume);
        String token = repo.bootstrap().orElseThrow();
        assertTrue(repo.bootstrap().isEmpty(), "the administrator is made once");
        admin = repo.authenticate(token, "test");
        alice = user("alice");
        bob = user("bob");
        carol = user("carol");
        repo.createTeam(admin, "vision");
        repo.createTeam(admin, "audio");
        repo.setRole(admin, "vision", "alice", Role.WRITER);
        repo.setRole(admin, "vision", "bob", Role.ADMIN);
        repo.setRole(admin, "audio", "carol", Role.ADMIN);
        repo.createModel(alice, "vision", "llama");
    }

    @AfterEach
    void close() throws Exception {
        store.close();
        volume.close();
    }

    private Identity user(String name) throws Exception {
        repo.createUser(admin, name, false);
        return repo.authenticate(repo.issueToken(admin, name, null, null).getString("token"), "test");
    }

    private static void denied(Executable call) {
        RepoError e = assertThrows(RepoError.class, call::run);
        assertEquals(403, e.status, e.getMessage());
    }

    interface Executable {
        void run() throws Exception;
    }

    /** Writes {@code data} as a file of draft {@code n}, as an upload does, and records it. */
    private JsonObject put(Identity who, int n, String path, String data) throws Exception {
        Repository.Place p = repo.placeFor("vision", "llama", n, path);
        try (FileHandle h = volume.create(Caller.ROOT, p.dir(), p.name(), 0644,
                OpenFlags.WRONLY | OpenFlags.CREAT | OpenFlags.TRUNC)) {
            byte[] b = data.getBytes(UTF_8);
            h.write(0, b, 0, b.length);
        }
        return repo.recordFile(who, "vision", "llama", n, path, p, md5(data));
    }

    private static String md5(String data) {
        return HexFormat.of().formatHex(Repository.md5Digest().digest(data.getBytes(UTF_8)));
    }

    private int draft(Identity who) throws Exception {
        return repo.createVersion(who, "vision", "llama", null, null).getInteger("number");
    }

    @Test
    void tokensAreCheckedAndStoredOnlyAsHashes() throws Exception {
        JsonObject t = repo.issueToken(admin, "alice", null, null);
        String token = t.getString("token");
        assertEquals("alice", repo.authenticate(token, "x").user());
        RepoError bad = assertThrows(RepoError.class, () -> repo.authenticate(token + "x", "x"));
        assertEquals(401, bad.status);
        String record = new String(store.get("token/" + t.getString("id")).orElseThrow().value(), UTF_8);
        // The secret (base64url, which may itself hold '_') is the whole rest after "hgr_<id>_".
        String secret = Tokens.parse(token).secret();
        assertEquals(43, secret.length());
        assertFalse(record.contains(secret), record);
        denied(() -> repo.issueToken(alice, "bob", null, null));
    }

    @Test
    void onlyWritersMakeDraftsAndOnlyDraftsChange() throws Exception {
        denied(() -> repo.createVersion(carol, "vision", "llama", null, null));
        int n = draft(alice);
        put(alice, n, "config.json", "{}");
        repo.submit(alice, "vision", "llama", n);
        denied(() -> repo.writableVersion(alice, "vision", "llama", n));
        long dir = volume.resolve(Repository.versionPath("vision", "llama", n)).attr().inode();
        assertTrue(volume.frozen(dir));
        FsException e = assertThrows(FsException.class, () -> volume.unlink(Caller.ROOT, dir, "config.json"));
        assertEquals(Errno.EPERM, e.errno());
    }

    @Test
    void approvalNeedsAnotherTeamAdminAndReleaseNeedsApproval() throws Exception {
        int n = draft(bob);
        put(bob, n, "w.bin", "weights");
        repo.submit(bob, "vision", "llama", n);
        denied(() -> repo.approve(alice, "vision", "llama", n));
        denied(() -> repo.approve(bob, "vision", "llama", n));
        denied(() -> repo.release(bob, "vision", "llama", n, "prod"));
        repo.approve(admin, "vision", "llama", n);
        JsonObject r = repo.release(bob, "vision", "llama", n, "prod");
        assertEquals("released", r.getString("state"));
        Repository fresh = new Repository(provider().open(URI.create(meta)), volume);
        JsonObject v = fresh.version(alice, "vision", "llama", "prod");
        assertEquals(n, v.getInteger("number"));
        assertEquals("admin", v.getJsonArray("approvals").getJsonObject(0).getString("user"));
        RepoError again = assertThrows(RepoError.class, () -> repo.release(bob, "vision", "llama", n, null));
        assertEquals(409, again.status);
    }

    @Test
    void otherTeamsNeitherReadNorListUnlessShared() throws Exception {
        int n = draft(alice);
        denied(() -> repo.models(carol, "vision"));
        denied(() -> repo.versions(carol, "vision", "llama"));
        denied(() -> repo.version(carol, "vision", "llama", Integer.toString(n)));
        denied(() -> repo.share(alice, "vision", "llama", "audio", true));
        repo.share(bob, "vision", "llama", "audio", true);
        assertEquals(1, repo.versions(carol, "vision", "llama").size());
        assertEquals(1, repo.models(carol, "vision").size());
        denied(() -> repo.createVersion(carol, "vision", "llama", null, null));
        repo.share(bob, "vision", "llama", "audio", false);
        denied(() -> repo.versions(carol, "vision", "llama"));
    }

    @Test
    void aPodTokenReadsOnlyReleasedVersionsOfItsModel() throws Exception {
        repo.setRole(admin, "vision", "carol", Role.READER);
        Identity pod = repo.authenticate(repo.issueToken(admin, "carol", "vision", "llama").getString("token"), "pod");
        int draft = draft(alice);
        denied(() -> repo.version(pod, "vision", "llama", Integer.toString(draft)));
        assertEquals(new JsonArray(), repo.versions(pod, "vision", "llama"));
        denied(() -> repo.createVersion(pod, "vision", "llama", null, null));
        denied(() -> repo.models(pod, "audio"));
        repo.createModel(alice, "vision", "other");
        denied(() -> repo.versions(pod, "vision", "other"));
    }

    @Test
    void aKnownMd5IsLinkedNotStoredAgain() throws Exception {
        int n = draft(alice);
        put(alice, n, "a.bin", "the same bytes");
        assertEquals(new JsonArray().add(md5("the same bytes")),
                repo.knownMd5s(alice, "vision", new JsonArray().add(md5("the same bytes")).add(md5("other"))));
        JsonObject linked = repo.link(alice, "vision", "llama", n, "dir/b.bin", md5("the same bytes"), 14);
        assertTrue(linked.getBoolean("deduplicated"));
        JsonObject again = put(alice, n, "c.bin", "the same bytes");
        assertTrue(again.getBoolean("deduplicated"), "an upload whose MD5 is known becomes a clone");
        RepoError none = assertThrows(RepoError.class,
                () -> repo.link(alice, "vision", "llama", n, "d.bin", md5("never stored"), 12));
        assertEquals(404, none.status);
        // Another team's files are no dedup source: the MD5 index is per team.
        repo.setRole(admin, "audio", "alice", Role.WRITER);
        assertEquals(new JsonArray(), repo.knownMd5s(alice, "audio", new JsonArray().add(md5("the same bytes"))));
    }

    @Test
    void aSnapshotIsAWritableDraftWithTheManifestCarriedOver() throws Exception {
        int n = draft(alice);
        put(alice, n, "w.bin", "weights");
        repo.submit(alice, "vision", "llama", n);
        JsonObject s = repo.createVersion(alice, "vision", "llama", Integer.toString(n), null);
        int m = s.getInteger("number");
        assertEquals(n, s.getInteger("parent"));
        assertEquals("draft", s.getString("state"));
        JsonArray files = repo.manifest(alice, "vision", "llama", Integer.toString(m), null, 100).getJsonArray("files");
        assertEquals(1, files.size());
        assertEquals(md5("weights"), files.getJsonObject(0).getString("md5"));
        put(alice, m, "w.bin", "new weights");
        assertEquals(md5("new weights"), repo.manifest(alice, "vision", "llama", Integer.toString(m), null, 100)
                .getJsonArray("files").getJsonObject(0).getString("md5"));
        assertEquals(md5("weights"), repo.manifest(alice, "vision", "llama", Integer.toString(n), null, 100)
                .getJsonArray("files").getJsonObject(0).getString("md5"));
    }

    @Test
    void tagsMoveAtomicallyAndResolve() throws Exception {
        int a = draft(alice);
        int b = draft(alice);
        repo.tag(alice, "vision", "llama", "latest", Integer.toString(a));
        assertEquals(a, repo.version(alice, "vision", "llama", "latest").getInteger("number"));
        repo.tag(alice, "vision", "llama", "latest", Integer.toString(b));
        assertEquals(b, repo.version(alice, "vision", "llama", "latest").getInteger("number"));
        RepoError bad = assertThrows(RepoError.class, () -> repo.tag(alice, "vision", "llama", "12", "1"));
        assertEquals(400, bad.status);
        denied(() -> repo.tag(carol, "vision", "llama", "x", "1"));
    }

    @Test
    void changesAndRefusalsAreAudited() throws Exception {
        RepoError e = assertThrows(RepoError.class, () -> repo.versions(carol, "vision", "llama"));
        repo.refused(carol, "vision", "llama", "GET", "/x", e);
        JsonObject log = repo.audit(bob, "vision", null, null, 0, Long.MAX_VALUE, 0, 1000);
        JsonArray entries = log.getJsonArray("entries");
        boolean sawDenied = false;
        boolean sawModel = false;
        for (int i = 0; i < entries.size(); i++) {
            JsonObject x = entries.getJsonObject(i);
            sawDenied |= x.getString("user").equals("carol") && x.getString("result").equals("denied");
            sawModel |= x.getString("action").equals("model.create") && x.getString("user").equals("alice");
        }
        assertTrue(sawDenied, log.encode());
        assertTrue(sawModel, log.encode());
        denied(() -> repo.audit(carol, "vision", null, null, 0, Long.MAX_VALUE, 0, 10));
        denied(() -> repo.audit(bob, null, null, null, 0, Long.MAX_VALUE, 0, 10));
    }

    @Test
    void badNamesAreRefusedWithBadRequest() throws Exception {
        for (Executable bad : new Executable[] {() -> repo.createTeam(admin, "api"),
                () -> repo.createTeam(admin, "Upper"), () -> repo.createModel(alice, "vision", "../x"),
                () -> repo.placeFor("vision", "llama", 1, "a/../b"), () -> repo.placeFor("vision", "llama", 1, "")}) {
            RepoError e = assertThrows(RepoError.class, bad::run);
            assertEquals(400, e.status, e.getMessage());
        }
    }

    @Test
    void aTrashedVersionIsHiddenRestorableAndPurgedWithItsBlocks() throws Exception {
        int n = draft(alice);
        put(alice, n, "w.bin", "weights to be purged");
        repo.submit(alice, "vision", "llama", n);
        repo.tag(alice, "vision", "llama", "prod", Integer.toString(n));
        denied(() -> repo.trashVersion(alice, "vision", "llama", n, 86_400_000));
        JsonObject t = repo.trashVersion(bob, "vision", "llama", n, 86_400_000);
        RepoError hidden = assertThrows(RepoError.class, () -> repo.version(alice, "vision", "llama", "prod"));
        assertEquals(404, hidden.status);
        assertEquals(0, repo.versions(alice, "vision", "llama").size());
        repo.restore(alice, "vision", t.getString("id"));
        assertEquals("submitted", repo.version(alice, "vision", "llama", "prod").getString("state"));
        JsonObject again = repo.trashVersion(bob, "vision", "llama", n, 0);
        long dir = volume.resolve(Repository.versionPath("vision", "llama", n)).attr().inode();
        assertTrue(volume.frozen(dir), "the trash keeps the tree as it was");
        assertEquals(1, repo.expireTrash(System.currentTimeMillis(), 10));
        FsException gone = assertThrows(FsException.class,
                () -> volume.resolve(Repository.versionPath("vision", "llama", n)));
        assertEquals(Errno.ENOENT, gone.errno());
        assertEquals(new JsonArray(), repo.trash(alice, "vision"));
        assertEquals(new JsonArray(), repo.tags(alice, "vision", "llama"));
        assertTrue(store.get("trash/vision/" + again.getString("id")).isEmpty());
    }

    @Test
    void aTrashedFileComesBackAtItsPath() throws Exception {
        int n = draft(alice);
        put(alice, n, "dir/w.bin", "some weights");
        JsonObject t = repo.trashFile(alice, "vision", "llama", n, "dir/w.bin", 86_400_000);
        assertThrows(FsException.class, () -> volume.resolve(Repository.versionPath("vision", "llama", n) + "/dir/w.bin"));
        assertEquals(0, repo.manifest(alice, "vision", "llama", Integer.toString(n), null, 10).getJsonArray("files").size());
        denied(() -> repo.restore(carol, "vision", t.getString("id")));
        repo.restore(alice, "vision", t.getString("id"));
        JsonArray files = repo.manifest(alice, "vision", "llama", Integer.toString(n), null, 10).getJsonArray("files");
        assertEquals(md5("some weights"), files.getJsonObject(0).getString("md5"));
        try (FileHandle h = volume.open(Caller.ROOT, volume.resolve(Repository.versionPath("vision", "llama", n)
                + "/dir/w.bin").attr().inode(), OpenFlags.RDONLY)) {
            byte[] b = new byte[64];
            int r = h.read(0, b, 0, b.length);
            assertEquals("some weights", new String(b, 0, r, UTF_8));
        }
        denied(() -> repo.purge(alice, "vision", "x"));
    }

    @Test
    void submitTrustsAnUploadsMd5WhileTheFileIsUnchangedAndHashesWhatChangedSince() throws Exception {
        int n = draft(alice);
        // An upload hands recordFile the MD5 it computed while streaming. A marker value in its place shows
        // which way submit went: trusted (the file is not read again) or hashed anew.
        String marker = md5("not the bytes of the file");
        Repository.Place p = repo.placeFor("vision", "llama", n, "kept.bin");
        try (FileHandle h = volume.create(Caller.ROOT, p.dir(), p.name(), 0644, OpenFlags.WRONLY | OpenFlags.CREAT)) {
            byte[] b = "uploaded".getBytes(UTF_8);
            h.write(0, b, 0, b.length);
        }
        repo.recordFile(alice, "vision", "llama", n, "kept.bin", p, marker);
        put(alice, n, "changed.bin", "as uploaded");
        long changed = volume.resolve(Repository.versionPath("vision", "llama", n) + "/changed.bin").attr().inode();
        try (FileHandle h = volume.open(Caller.ROOT, changed, OpenFlags.WRONLY)) {
            byte[] b = "then rewritten through a mount".getBytes(UTF_8);
            h.write(0, b, 0, b.length);
        }
        repo.submit(alice, "vision", "llama", n);
        JsonArray files = repo.manifest(alice, "vision", "llama", Integer.toString(n), null, 10).getJsonArray("files");
        assertEquals("changed.bin", files.getJsonObject(0).getString("path"));
        assertEquals(md5("then rewritten through a mount"), files.getJsonObject(0).getString("md5"));
        assertEquals("kept.bin", files.getJsonObject(1).getString("path"));
        assertEquals(marker, files.getJsonObject(1).getString("md5"), "the freeze left the upload's record valid");
    }
}
