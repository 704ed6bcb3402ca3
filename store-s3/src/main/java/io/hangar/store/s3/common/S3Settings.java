package io.hangar.store.s3.common;

import io.hangar.spi.store.StoreException;
import io.hangar.spi.store.StoreException.Kind;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How to reach one bucket: what {@code s3://} and {@code oss://} URLs parse into. A URL holds no secret (a
 * volume records its store URL and {@code status} prints it): credentials come from a profile, the
 * environment or the instance (see {@link S3ChunkStore}).
 *
 * @param scheme       "s3" or "oss", for {@link #describe()}
 * @param bucket       the bucket
 * @param prefix       "" or a key prefix ending in '/'
 * @param endpoint     the service endpoint (scheme://host[:port]), null for the SDK's AWS default
 * @param region       the signing region
 * @param pathStyle    bucket in the path (radosgw, MinIO) rather than in the host name
 * @param profile      the credentials profile to use, null for the default chain
 * @param credentialsFile a credentials file (AWS format) for {@code profile}, null for the standard place
 * @param maxConnections connection pool bound
 * @param attempts     attempts per request (1 = no retry) on 5xx, throttling and timeouts
 * @param storageClass the storage class written, null for the bucket's default
 * @param ossHeaders   OSS mode: the storage class goes in OSS's own header
 * @param resolve      host name → address overrides ({@code host} also matches {@code bucket.host})
 * @param query        the URL's parameters as given, for {@link #describe()}
 */
public record S3Settings(String scheme, String bucket, String prefix, URI endpoint, String region, boolean pathStyle,
        String profile, String credentialsFile, int maxConnections, int attempts, String storageClass,
        boolean ossHeaders, Map<String, String> resolve, String query) {

    /** Parameters every scheme takes. */
    public static final List<String> COMMON = List.of("profile", "credentials-file", "max-connections", "retries",
            "storage-class", "resolve");

    /** The bucket and prefix of {@code scheme://bucket[/prefix]}; INVALID if malformed. */
    public static String[] bucketAndPrefix(URI url, String scheme) throws StoreException {
        String bucket = url.getRawAuthority();
        if (!scheme.equals(url.getScheme()) || bucket == null || bucket.isEmpty() || bucket.contains("@")
                || bucket.contains(":")) {
            throw new StoreException(Kind.INVALID, "a store URL is " + scheme + "://bucket[/prefix]?…, was "
                    + withoutQuery(url));
        }
        String path = url.getRawPath() == null ? "" : decode(url.getRawPath());
        String prefix = path.startsWith("/") ? path.substring(1) : path;
        if (!prefix.isEmpty() && !prefix.endsWith("/")) {
            prefix += "/";
        }
        if (prefix.startsWith("/") || prefix.contains("//")) {
            throw new StoreException(Kind.INVALID, "bad prefix in " + withoutQuery(url));
        }
        return new String[] {decode(bucket), prefix};
    }

    /** The query parameters; INVALID if one is given twice or is not in {@code known}. */
    public static Map<String, String> query(URI url, List<String> known) throws StoreException {
        Map<String, String> q = new LinkedHashMap<>();
        if (url.getRawQuery() != null && !url.getRawQuery().isEmpty()) {
            for (String kv : url.getRawQuery().split("&")) {
                int eq = kv.indexOf('=');
                String k = decode(eq < 0 ? kv : kv.substring(0, eq));
                String v = eq < 0 ? "" : decode(kv.substring(eq + 1));
                if (!known.contains(k)) {
                    throw new StoreException(Kind.INVALID, "unknown parameter '" + k + "' in " + url.getScheme()
                            + " store URL (known: " + String.join(", ", known) + ")");
                }
                if (q.put(k, v) != null) {
                    throw new StoreException(Kind.INVALID, "parameter " + k + " given twice");
                }
            }
        }
        return q;
    }

    /** The settings every scheme shares, from its parameters. */
    public static S3Settings of(String scheme, String bucket, String prefix, URI endpoint, String region,
            boolean pathStyle, boolean ossHeaders, Map<String, String> q, URI url) throws StoreException {
        Map<String, String> resolve = new LinkedHashMap<>();
        String r = q.get("resolve");
        if (r != null && !r.isEmpty()) {
            for (String e : r.split(",")) {
                int c = e.lastIndexOf(':');
                if (c <= 0 || c == e.length() - 1) {
                    throw new StoreException(Kind.INVALID, "resolve must be host:address[,host:address…], was " + r);
                }
                resolve.put(e.substring(0, c).toLowerCase(java.util.Locale.ROOT), e.substring(c + 1));
            }
        }
        return new S3Settings(scheme, bucket, prefix, endpoint, region, pathStyle, empty(q.get("profile")),
                empty(q.get("credentials-file")), number(q, "max-connections", 64, 1), number(q, "retries", 5, 0) + 1,
                empty(q.get("storage-class")), ossHeaders, Map.copyOf(resolve),
                url.getRawQuery() == null ? "" : url.getRawQuery());
    }

    static String empty(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    public static boolean bool(Map<String, String> q, String name, boolean def) throws StoreException {
        String v = q.get(name);
        if (v == null || v.isEmpty()) {
            return def;
        }
        if (v.equalsIgnoreCase("true") || v.equals("1")) {
            return true;
        }
        if (v.equalsIgnoreCase("false") || v.equals("0")) {
            return false;
        }
        throw new StoreException(Kind.INVALID, name + " must be true or false, was '" + v + "'");
    }

    static int number(Map<String, String> q, String name, int def, int min) throws StoreException {
        String v = q.get(name);
        if (v == null || v.isEmpty()) {
            return def;
        }
        try {
            int n = Integer.parseInt(v);
            if (n < min) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new StoreException(Kind.INVALID, name + " must be a number >= " + min + ", was '" + v + "'");
        }
    }

    public static URI endpoint(String v) throws StoreException {
        try {
            URI u = URI.create(v);
            if (u.getScheme() == null || u.getHost() == null
                    || !(u.getScheme().equals("http") || u.getScheme().equals("https"))) {
                throw new IllegalArgumentException();
            }
            return u;
        } catch (IllegalArgumentException e) {
            throw new StoreException(Kind.INVALID, "endpoint must be http[s]://host[:port], was '" + v + "'");
        }
    }

    static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    static String withoutQuery(URI url) {
        String s = url.toString();
        int i = s.indexOf('?');
        return i < 0 ? s : s.substring(0, i);
    }

    /** The URL as given (it holds no secret). */
    public String describe() {
        return scheme + "://" + bucket + (prefix.isEmpty() ? "" : "/" + prefix.substring(0, prefix.length() - 1))
                + (query.isEmpty() ? "" : "?" + query);
    }
}
