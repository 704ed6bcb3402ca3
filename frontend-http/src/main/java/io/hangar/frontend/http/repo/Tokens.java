package io.hangar.frontend.http.repo;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * API tokens: {@code hgr_<id>_<secret>}. The id names the stored record; the secret (256 random bits) is kept
 * only as SHA-256 over a per-token salt and the secret. A slow password hash buys nothing for a secret of full
 * entropy, and every request checks one.
 */
final class Tokens {
    private static final SecureRandom RANDOM = new SecureRandom();
    static final String PREFIX = "hgr_";

    private Tokens() {
    }

    record Issued(String id, String token, String salt, String hash) {
    }

    record Parsed(String id, String secret) {
    }

    static Issued issue() {
        byte[] idBytes = new byte[8];
        byte[] secret = new byte[32];
        byte[] salt = new byte[16];
        RANDOM.nextBytes(idBytes);
        RANDOM.nextBytes(secret);
        RANDOM.nextBytes(salt);
        String id = HexFormat.of().formatHex(idBytes);
        String s = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        String saltText = Base64.getEncoder().encodeToString(salt);
        return new Issued(id, PREFIX + id + "_" + s, saltText, hash(saltText, s));
    }

    static Parsed parse(String token) throws RepoError {
        if (token == null || !token.startsWith(PREFIX) || token.length() > 200) {
            throw RepoError.unauthenticated("no Hangar API token (Authorization: Bearer hgr_…)");
        }
        int sep = token.indexOf('_', PREFIX.length());
        if (sep < 0) {
            throw RepoError.unauthenticated("malformed API token");
        }
        String id = token.substring(PREFIX.length(), sep);
        if (!id.matches("[0-9a-f]{16}")) {
            throw RepoError.unauthenticated("malformed API token");
        }
        return new Parsed(id, token.substring(sep + 1));
    }

    static String hash(String salt, String secret) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(Base64.getDecoder().decode(salt));
            d.update(secret.getBytes(UTF_8));
            return Base64.getEncoder().encodeToString(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static boolean matches(String salt, String expectedHash, String secret) {
        return MessageDigest.isEqual(expectedHash.getBytes(UTF_8), hash(salt, secret).getBytes(UTF_8));
    }
}
