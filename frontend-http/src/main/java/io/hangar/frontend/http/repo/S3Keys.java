package io.hangar.frontend.http.repo;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.spi.repo.AuditEvent;
import io.hangar.spi.repo.RepoCondition;
import io.hangar.spi.repo.RepoRecord;
import io.hangar.spi.repo.RepoWrite;
import io.hangar.spi.repo.RepositoryStore;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;
import java.util.logging.Logger;
import java.util.regex.Pattern;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * S3 access keys of repository users. A key pair is issued to a user ({@code AKHG} + 16 of {@code A-Z 0-9};
 * a 40-character secret) and shown once; the store keeps {@code s3key/<accessKey>} (user, created, createdBy,
 * the site key's id and the secret encrypted with AES-256-GCM, the record's access key and user as associated
 * data, so a ciphertext moved to another record does not decrypt) and {@code s3key-of/<user>/<accessKey>}.
 * Unlike an API token the secret must be recoverable: SigV4 signs with it, so the gateway decrypts it per
 * request.
 *
 * <p>The site key is 32 random bytes in {@value #SITE_KEY_FILE} beside the API token file ({@code etc/} of a
 * runtime), made mode 600 on first use. A metadata backup alone therefore holds no usable S3 secret. Without a
 * token file the key lives in memory, one per repository store, for the gateway's life: keys issued then do not
 * survive a restart (this is logged).
 */
public final class S3Keys {
    private static final Logger LOG = Logger.getLogger(S3Keys.class.getName());
    static final String SITE_KEY_FILE = "repository.key";
    static final String PREFIX = "s3key/";
    static final String OF = "s3key-of/";
    private static final String ALNUM_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    private static final String ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private static final Pattern ACCESS_KEY = Pattern.compile("AKHG[A-Z0-9]{16}");
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int NONCE = 12;
    private static final int TAG_BITS = 128;
    private static final int ATTEMPTS = 20;
    /** Site keys of gateways without a key file: one per repository store, gone with it. */
    private static final Map<RepositoryStore, SecretKeySpec> IN_MEMORY = Collections.synchronizedMap(new WeakHashMap<>());

    private final RepositoryStore store;
    private final Path keyFile;
    private volatile SecretKeySpec siteKey;

    /** {@code apiTokenFile}: the gateway's API token file ({@code repository.key} goes beside it), or null. */
    S3Keys(RepositoryStore store, String apiTokenFile) {
        this.store = store;
        this.keyFile = siteKeyFile(apiTokenFile);
    }

    /** Where the site key of a gateway with this API token file lives, or null (in memory). */
    static Path siteKeyFile(String apiTokenFile) {
        return apiTokenFile == null || apiTokenFile.isBlank() ? null
                : Path.of(apiTokenFile).toAbsolutePath().resolveSibling(SITE_KEY_FILE);
    }

    // ---- the site key ----

    private SecretKeySpec siteKey() throws FsException {
        SecretKeySpec k = siteKey;
        if (k != null) {
            return k;
        }
        synchronized (this) {
            if (siteKey == null) {
                siteKey = keyFile == null ? IN_MEMORY.computeIfAbsent(store, s -> {
                    LOG.warning("no API token file configured: the site key of the S3 keys of repository users is "
                            + "kept in memory only; S3 keys issued now will not survive a restart of the gateway");
                    return new SecretKeySpec(random(32), "AES");
                }) : new SecretKeySpec(loadOrCreate(keyFile), "AES");
            }
            return siteKey;
        }
    }

    /** Reads the key file, or makes it (mode 600, written whole before it appears under its name). */
    private static byte[] loadOrCreate(Path f) throws FsException {
        try {
            if (!Files.exists(f)) {
                Files.createDirectories(f.getParent());
                Path tmp = f.resolveSibling("." + SITE_KEY_FILE + "-" + Long.toHexString(RANDOM.nextLong()));
                try {
                    try {
                        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(
                                PosixFilePermissions.fromString("rw-------")));
                    } catch (UnsupportedOperationException notPosix) {
                        Files.createFile(tmp);
                    }
                    Files.write(tmp, random(32));
                    // A hard link does not replace: of two gateways making the key at once, one key wins.
                    Files.createLink(f, tmp);
                    LOG.info("site key for the S3 keys of repository users made in " + f);
                } catch (FileAlreadyExistsException raced) {
                    // Another gateway made it first: use theirs.
                } finally {
                    Files.deleteIfExists(tmp);
                }
            }
            byte[] k = Files.readAllBytes(f);
            if (k.length != 32) {
                throw new FsException(Errno.EIO, f + " must hold 32 bytes (the site key of S3 keys), not " + k.length);
            }
            return k;
        } catch (IOException e) {
            throw new FsException(Errno.EIO, "the site key of S3 keys in " + f + ": " + e);
        }
    }

    /** A short public name of the site key (in each record, so a wrong key is reported as such). */
    private static String keyId(SecretKeySpec k) {
        MessageDigest d = Repository.md5Digest();
        d.update("hangar s3 site key\n".getBytes(UTF_8));
        return HexFormat.of().formatHex(d.digest(k.getEncoded())).substring(0, 12);
    }

    private static byte[] aad(String accessKey, String user) {
        return (PREFIX + accessKey + "\n" + user).getBytes(UTF_8);
    }

    private static String encrypt(SecretKeySpec k, String accessKey, String user, String secret) {
        try {
            byte[] nonce = random(NONCE);
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, k, new GCMParameterSpec(TAG_BITS, nonce));
            c.updateAAD(aad(accessKey, user));
            byte[] ct = c.doFinal(secret.getBytes(UTF_8));
            return Base64.getEncoder().encodeToString(ByteBuffer.allocate(NONCE + ct.length).put(nonce).put(ct).array());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/GCM is part of every JDK", e);
        }
    }

    /** The secret, or null if it does not decrypt with this key (another site key, or a tampered record). */
    private static String decrypt(SecretKeySpec k, String accessKey, String user, String sealed) {
        try {
            byte[] all = Base64.getDecoder().decode(sealed);
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, k, new GCMParameterSpec(TAG_BITS, all, 0, NONCE));
            c.updateAAD(aad(accessKey, user));
            return new String(c.doFinal(all, NONCE, all.length - NONCE), UTF_8);
        } catch (AEADBadTagException | IllegalArgumentException bad) {
            return null;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/GCM is part of every JDK", e);
        }
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    private static String random(String alphabet, int n) {
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            sb.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
        }
        return sb.toString();
    }

    // ---- keys ----

    /** A user's key as the gateway needs it. {@link #toString} leaves the secret out. */
    record Found(String accessKey, String user, String secret) {
        @Override
        public String toString() {
            return "S3 key " + accessKey + " of " + user;
        }
    }

    /** The key {@code accessKey} with its secret decrypted, or null if there is no such (usable) key. */
    Found find(String accessKey) throws FsException {
        if (accessKey == null || !ACCESS_KEY.matcher(accessKey).matches()) {
            return null;
        }
        Optional<RepoRecord> r = store.get(PREFIX + accessKey);
        if (r.isEmpty()) {
            return null;
        }
        JsonObject v = new JsonObject(new String(r.get().value(), UTF_8));
        SecretKeySpec k = siteKey();
        String secret = decrypt(k, accessKey, v.getString("user"), v.getString("secret"));
        if (secret == null) {
            LOG.warning("S3 key " + accessKey + " of " + v.getString("user") + " does not decrypt: it was sealed with "
                    + "site key " + v.getString("keyId") + ", this gateway has " + keyId(k)
                    + (keyFile == null ? " (in memory: no API token file is configured)" : " (" + keyFile + ")"));
            return null;
        }
        return new Found(accessKey, v.getString("user"), secret);
    }

    private static void mayManage(Identity who, String user) throws RepoError {
        Repository.user(user);
        if (who.scoped() || (!who.siteAdmin() && !who.user().equals(user))) {
            throw RepoError.denied(who.user() + " may not manage the S3 keys of " + user);
        }
    }

    private static AuditEvent event(Identity who, String action, String target) {
        JsonObject d = new JsonObject().put("action", action).put("target", target).put("result", "ok")
                .put("origin", who.origin());
        return new AuditEvent(null, who.user(), null, d.encode().getBytes(UTF_8));
    }

    /** A new key pair for {@code user} (a site administrator for anyone, a user for themself): shown once. */
    JsonObject issue(Identity who, String user) throws FsException, RepoError {
        mayManage(who, user);
        SecretKeySpec k = siteKey();
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            Optional<RepoRecord> u = store.get("user/" + user);
            if (u.isEmpty()) {
                throw RepoError.notFound("no user " + user);
            }
            String ak = "AKHG" + random(ALNUM_UPPER, 16);
            String secret = random(ALNUM, 40);
            long now = System.currentTimeMillis();
            JsonObject rec = new JsonObject().put("accessKey", ak).put("user", user).put("created", now)
                    .put("createdBy", who.user()).put("keyId", keyId(k)).put("secret", encrypt(k, ak, user, secret));
            JsonObject of = new JsonObject().put("accessKey", ak).put("created", now).put("createdBy", who.user());
            boolean done = store.commit(
                    List.of(new RepoCondition("user/" + user, u.get().version()), RepoCondition.absent(PREFIX + ak)),
                    List.of(RepoWrite.put(PREFIX + ak, rec.encode().getBytes(UTF_8)),
                            RepoWrite.put(OF + user + "/" + ak, of.encode().getBytes(UTF_8))),
                    List.of(event(who, "s3key.issue", user + " " + ak)));
            if (done) {
                return new JsonObject().put("user", user).put("accessKey", ak).put("secretKey", secret)
                        .put("created", now);
            }
        }
        throw new RepoError(503, "Busy", "issuing an S3 key for " + user + ": too many concurrent changes, try again");
    }

    /** The access keys of {@code user} (never their secrets). */
    JsonArray list(Identity who, String user) throws FsException, RepoError {
        mayManage(who, user);
        JsonArray out = new JsonArray();
        for (RepoRecord r : store.list(OF + user + "/", null, 1000)) {
            out.add(new JsonObject(new String(r.value(), UTF_8)));
        }
        return out;
    }

    /** Revokes one key of {@code user}: requests signed with it fail from now on. */
    JsonObject revoke(Identity who, String user, String accessKey) throws FsException, RepoError {
        mayManage(who, user);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            Optional<RepoRecord> r = accessKey != null && ACCESS_KEY.matcher(accessKey).matches()
                    ? store.get(PREFIX + accessKey) : Optional.empty();
            if (r.isEmpty() || !user.equals(new JsonObject(new String(r.get().value(), UTF_8)).getString("user"))) {
                throw RepoError.notFound("no S3 key " + accessKey + " of " + user);
            }
            if (store.commit(List.of(new RepoCondition(PREFIX + accessKey, r.get().version())),
                    List.of(RepoWrite.delete(PREFIX + accessKey), RepoWrite.delete(OF + user + "/" + accessKey)),
                    List.of(event(who, "s3key.delete", user + " " + accessKey)))) {
                return new JsonObject().put("user", user).put("accessKey", accessKey).put("deleted", true);
            }
        }
        throw new RepoError(503, "Busy", "revoking " + accessKey + ": too many concurrent changes, try again");
    }
}
