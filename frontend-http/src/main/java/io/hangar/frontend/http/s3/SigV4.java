package io.hangar.frontend.http.s3;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * AWS Signature Version 4 as S3 checks it: in the Authorization header or in a presigned query string; the
 * payload hash of {@code x-amz-content-sha256} (a hex SHA-256, {@code UNSIGNED-PAYLOAD}, or one of the
 * {@code STREAMING-*} aws-chunked modes, whose chunks {@link ChunkedDecoder} verifies with {@link #chunkSigner}).
 */
final class SigV4 {
    static final String ALGORITHM = "AWS4-HMAC-SHA256";
    static final String UNSIGNED = "UNSIGNED-PAYLOAD";
    static final String STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
    static final String STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
    static final String STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
    static final String EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");
    static final Duration MAX_PRESIGN = Duration.ofDays(7);

    /** What a verified request is: who signed it, and how its body is to be checked. */
    record Auth(Credentials.Key key, String payloadHash, String amzDate, String scope, byte[] signingKey,
            String seedSignature) {
        boolean streaming() {
            return payloadHash.startsWith("STREAMING-");
        }

        /** A hex SHA-256 the body must have, or null. */
        String bodySha256() {
            return payloadHash.length() == 64 && !streaming() && !payloadHash.equals(UNSIGNED) ? payloadHash : null;
        }
    }

    /** The parts of a request the signature covers. Header names lower-case; values as received. */
    record Request(String method, String rawPath, List<Map.Entry<String, String>> query,
            Function<String, List<String>> headers) {
        String header(String name) {
            List<String> v = headers.apply(name);
            return v == null || v.isEmpty() ? null : v.get(0);
        }

        String param(String name) {
            for (Map.Entry<String, String> e : query) {
                if (e.getKey().equals(name)) {
                    return e.getValue();
                }
            }
            return null;
        }
    }

    private final Credentials credentials;
    private final Duration maxSkew;
    private final Map<String, byte[]> keyCache = new ConcurrentHashMap<>();

    SigV4(Credentials credentials, Duration maxSkew) {
        this.credentials = credentials;
        this.maxSkew = maxSkew;
    }

    /** Verifies the request's signature; fails with the S3 error a client would get. */
    Auth verify(Request r, Instant now) throws S3Error {
        return verify(r, now, null);
    }

    /** Where keys not in the credentials file are looked up (a repository user's); may block. */
    @FunctionalInterface
    interface KeyLookup {
        Credentials.Key find(String accessKey) throws S3Error;
    }

    /** As {@link #verify(Request, Instant)}, looking a key up in {@code others} if the credentials lack it. */
    Auth verify(Request r, Instant now, KeyLookup others) throws S3Error {
        String authz = r.header("authorization");
        if (authz != null) {
            return verifyHeader(r, authz, now, others);
        }
        if (r.param("X-Amz-Algorithm") != null || r.param("X-Amz-Signature") != null) {
            return verifyQuery(r, now, others);
        }
        if (r.param("Signature") != null || r.param("AWSAccessKeyId") != null) {
            throw sigV2();
        }
        throw S3Error.accessDenied("Anonymous access is not allowed: sign requests with AWS Signature Version 4");
    }

    private static S3Error sigV2() {
        return S3Error.invalidRequest("The authorization mechanism you have provided is not supported. Please use "
                + ALGORITHM + ".");
    }

    private Auth verifyHeader(Request r, String authz, Instant now, KeyLookup others) throws S3Error {
        if (!authz.startsWith(ALGORITHM + " ")) {
            if (authz.startsWith("AWS ")) {
                throw sigV2();
            }
            throw new S3Error(400, "AuthorizationHeaderMalformed", "Unsupported authorization: " + first(authz));
        }
        String credential = null;
        String signedHeaders = null;
        String signature = null;
        for (String part : authz.substring(ALGORITHM.length() + 1).split(",")) {
            String p = part.trim();
            int eq = p.indexOf('=');
            if (eq < 0) {
                continue;
            }
            String k = p.substring(0, eq);
            String v = p.substring(eq + 1).trim();
            switch (k) {
                case "Credential" -> credential = v;
                case "SignedHeaders" -> signedHeaders = v;
                case "Signature" -> signature = v;
                default -> {
                }
            }
        }
        if (credential == null || signedHeaders == null || signature == null) {
            throw new S3Error(400, "AuthorizationHeaderMalformed",
                    "The authorization header is malformed: Credential, SignedHeaders and Signature are required");
        }
        String amzDate = r.header("x-amz-date");
        Instant t;
        if (amzDate != null) {
            t = parseAmzDate(amzDate);
        } else {
            String date = r.header("date");
            if (date == null) {
                throw new S3Error(403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
            }
            try {
                t = java.time.ZonedDateTime.parse(date, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
            } catch (DateTimeParseException e) {
                throw new S3Error(403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
            }
            amzDate = AMZ_DATE.format(LocalDateTime.ofInstant(t, ZoneOffset.UTC));
        }
        if (Duration.between(t, now).abs().compareTo(maxSkew) > 0) {
            throw new S3Error(403, "RequestTimeTooSkewed", "The difference between the request time (" + amzDate
                    + ") and the server's time (" + AMZ_DATE.format(LocalDateTime.ofInstant(now, ZoneOffset.UTC))
                    + ") is too large");
        }
        String payload = r.header("x-amz-content-sha256");
        if (payload == null) {
            throw S3Error.invalidRequest("Missing required header for this request: x-amz-content-sha256");
        }
        if (!payload.equals(UNSIGNED) && !payload.startsWith("STREAMING-")
                && !payload.matches("[0-9a-f]{64}")) {
            throw new S3Error(400, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                    + "STREAMING-* or a hex SHA-256");
        }
        if (payload.startsWith("STREAMING-") && !payload.equals(STREAMING_SIGNED)
                && !payload.equals(STREAMING_SIGNED_TRAILER) && !payload.equals(STREAMING_UNSIGNED_TRAILER)) {
            throw S3Error.notImplemented("x-amz-content-sha256: " + payload);
        }
        Scope scope = scope(credential, amzDate);
        Credentials.Key key = find(scope.accessKey, others);
        if (key == null) {
            throw new S3Error(403, "InvalidAccessKeyId",
                    "The AWS Access Key Id you provided does not exist in our records.");
        }
        String canonical = canonicalRequest(r, signedHeaders, payload, false);
        byte[] sk = signingKey(key.secret(), scope);
        String expected = sign(sk, amzDate, scope.scope, canonical);
        if (!MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
                signature.getBytes(StandardCharsets.US_ASCII))) {
            throw mismatch();
        }
        return new Auth(key, payload, amzDate, scope.scope, sk, signature);
    }

    private Auth verifyQuery(Request r, Instant now, KeyLookup others) throws S3Error {
        if (!ALGORITHM.equals(r.param("X-Amz-Algorithm"))) {
            throw new S3Error(400, "AuthorizationQueryParametersError", "X-Amz-Algorithm must be " + ALGORITHM);
        }
        String credential = r.param("X-Amz-Credential");
        String amzDate = r.param("X-Amz-Date");
        String expires = r.param("X-Amz-Expires");
        String signedHeaders = r.param("X-Amz-SignedHeaders");
        String signature = r.param("X-Amz-Signature");
        if (credential == null || amzDate == null || expires == null || signedHeaders == null || signature == null) {
            throw new S3Error(400, "AuthorizationQueryParametersError", "Query-string authentication version 4 "
                    + "requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, "
                    + "X-Amz-SignedHeaders, and X-Amz-Expires parameters.");
        }
        long secs;
        try {
            secs = Long.parseLong(expires);
        } catch (NumberFormatException e) {
            secs = -1;
        }
        if (secs < 1 || secs > MAX_PRESIGN.toSeconds()) {
            throw new S3Error(400, "AuthorizationQueryParametersError",
                    "X-Amz-Expires must be between 1 and 604800 seconds");
        }
        Instant t = parseAmzDate(amzDate);
        if (t.isAfter(now.plus(maxSkew))) {
            throw S3Error.accessDenied("Request is not valid yet");
        }
        if (now.isAfter(t.plusSeconds(secs))) {
            throw S3Error.accessDenied("Request has expired");
        }
        Scope scope = scope(credential, amzDate);
        Credentials.Key key = find(scope.accessKey, others);
        if (key == null) {
            throw new S3Error(403, "InvalidAccessKeyId",
                    "The AWS Access Key Id you provided does not exist in our records.");
        }
        String payload = r.param("X-Amz-Content-Sha256") != null ? r.param("X-Amz-Content-Sha256") : UNSIGNED;
        String canonical = canonicalRequest(r, signedHeaders, payload, true);
        byte[] sk = signingKey(key.secret(), scope);
        String expected = sign(sk, amzDate, scope.scope, canonical);
        if (!MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
                signature.getBytes(StandardCharsets.US_ASCII))) {
            throw mismatch();
        }
        return new Auth(key, payload.equals(UNSIGNED) ? UNSIGNED : payload, amzDate, scope.scope, sk, signature);
    }

    private Credentials.Key find(String accessKey, KeyLookup others) throws S3Error {
        Credentials.Key k = credentials.find(accessKey);
        return k != null || others == null ? k : others.find(accessKey);
    }

    /**
     * Whether the request is signed (or claims to be) with a key of the credentials file, or carries no
     * access key this class can read (then {@link #verify} reports what is wrong): such requests need no
     * other lookup.
     */
    boolean operatorKey(Request r) {
        String credential = null;
        String authz = r.header("authorization");
        if (authz != null && authz.startsWith(ALGORITHM + " ")) {
            int at = authz.indexOf("Credential=");
            if (at >= 0) {
                int end = authz.indexOf(',', at);
                credential = authz.substring(at + 11, end < 0 ? authz.length() : end).trim();
            }
        } else if (authz == null) {
            credential = r.param("X-Amz-Credential");
        }
        if (credential == null) {
            return true;
        }
        int slash = credential.indexOf('/');
        String ak = slash < 0 ? credential : credential.substring(0, slash);
        return ak.isEmpty() || credentials.find(ak) != null;
    }

    static S3Error mismatch() {
        return new S3Error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the "
                + "signature you provided. Check your key and signing method.");
    }

    private record Scope(String accessKey, String date, String region, String service, String scope) {
    }

    private static Scope scope(String credential, String amzDate) throws S3Error {
        String[] p = credential.split("/");
        if (p.length != 5 || !p[4].equals("aws4_request") || !p[3].equals("s3")) {
            throw new S3Error(400, "AuthorizationHeaderMalformed", "The credential is malformed; expecting "
                    + "\"<access key>/<YYYYMMDD>/<region>/s3/aws4_request\": " + credential);
        }
        if (!amzDate.startsWith(p[1])) {
            throw new S3Error(400, "AuthorizationHeaderMalformed", "The credential's date " + p[1]
                    + " is not the request's date " + amzDate);
        }
        return new Scope(p[0], p[1], p[2], p[3], p[1] + "/" + p[2] + "/" + p[3] + "/" + p[4]);
    }

    static Instant parseAmzDate(String s) throws S3Error {
        try {
            return LocalDateTime.parse(s, AMZ_DATE).toInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException e) {
            throw S3Error.accessDenied("malformed X-Amz-Date: " + first(s));
        }
    }

    static String canonicalRequest(Request r, String signedHeaders, String payload, boolean presigned)
            throws S3Error {
        StringBuilder sb = new StringBuilder(512);
        sb.append(r.method()).append('\n');
        sb.append(Keys.uriEncode(Keys.uriDecode(r.rawPath(), false), true)).append('\n');
        List<String> q = new ArrayList<>();
        for (Map.Entry<String, String> e : r.query()) {
            if (presigned && e.getKey().equals("X-Amz-Signature")) {
                continue;
            }
            q.add(Keys.uriEncode(e.getKey(), false) + "=" + Keys.uriEncode(e.getValue(), false));
        }
        q.sort(null);
        sb.append(String.join("&", q)).append('\n');
        for (String h : signedHeaders.split(";")) {
            String name = h.trim().toLowerCase(Locale.ROOT);
            List<String> values = r.headers().apply(name);
            sb.append(name).append(':');
            if (values != null) {
                for (int i = 0; i < values.size(); i++) {
                    if (i > 0) {
                        sb.append(',');
                    }
                    sb.append(values.get(i).trim().replaceAll("\\s+", " "));
                }
            }
            sb.append('\n');
        }
        sb.append('\n').append(signedHeaders).append('\n').append(payload);
        return sb.toString();
    }

    private byte[] signingKey(String secret, Scope s) {
        String cacheKey = secret + '\n' + s.scope;
        return keyCache.computeIfAbsent(cacheKey, k -> {
            if (keyCache.size() > 1000) {
                keyCache.clear();
            }
            byte[] kDate = hmac(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), s.date);
            byte[] kRegion = hmac(kDate, s.region);
            byte[] kService = hmac(kRegion, s.service);
            return hmac(kService, "aws4_request");
        });
    }

    static String sign(byte[] signingKey, String amzDate, String scope, String canonicalRequest) {
        String toSign = ALGORITHM + "\n" + amzDate + "\n" + scope + "\n" + sha256Hex(canonicalRequest
                .getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(hmac(signingKey, toSign));
    }

    /** The signature of one aws-chunked chunk whose data hashes to {@code dataSha256}, chained on {@code prev}. */
    static String chunkSignature(Auth a, String prev, String dataSha256) {
        String toSign = "AWS4-HMAC-SHA256-PAYLOAD\n" + a.amzDate() + "\n" + a.scope() + "\n" + prev + "\n"
                + EMPTY_SHA256 + "\n" + dataSha256;
        return HexFormat.of().formatHex(hmac(a.signingKey(), toSign));
    }

    /** The signature of the trailing headers ({@code name:value\n} each) of a signed aws-chunked body. */
    static String trailerSignature(Auth a, String prev, String canonicalTrailers) {
        String toSign = "AWS4-HMAC-SHA256-TRAILER\n" + a.amzDate() + "\n" + a.scope() + "\n" + prev + "\n"
                + sha256Hex(canonicalTrailers.getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(hmac(a.signingKey(), toSign));
    }

    static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (Exception e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String sha256Hex(byte[] data) {
        return HexFormat.of().formatHex(sha256().digest(data));
    }

    private static String first(String s) {
        return s.length() > 64 ? s.substring(0, 64) + "…" : s;
    }
}
