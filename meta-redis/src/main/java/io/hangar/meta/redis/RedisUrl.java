package io.hangar.meta.redis;

import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import redis.clients.jedis.HostAndPort;

/**
 * A parsed metadata URL. Forms:
 * <pre>
 * redis://[user[:password]@]host[:port][/db][?options]
 * rediss://…                                              (the same over TLS)
 * redis-sentinel://[user[:password]@]h1[:p1],h2[:p2]/master[/db][?options]
 * redis-cluster://[user[:password]@]h1[:p1],h2[:p2][/volume][?options]
 * </pre>
 * Options: {@code prefix} (key prefix, written as a {@code {hash tag}}), {@code timeout} (socket timeout
 * in ms), {@code connectTimeout} (ms), {@code pool} (maximum connections), {@code tls=true} (sentinel and
 * cluster forms), {@code truststore} and {@code truststorePassword} (a PKCS#12 or JKS file with the CA that
 * signed the server's certificate, instead of the JVM's default trust), {@code sentinelUser},
 * {@code sentinelPassword}. In cluster mode the volume name is the
 * hash tag of every key (default {@code hangar}), so a volume lives in one slot and its scripts stay on one
 * node.
 */
record RedisUrl(Mode mode, boolean tls, List<HostAndPort> nodes, String user, String password, int db,
        String master, String prefix, int timeoutMs, int connectTimeoutMs, int poolSize, String sentinelUser,
        String sentinelPassword, String truststore, String truststorePassword) {

    enum Mode { STANDALONE, SENTINEL, CLUSTER }

    static final int DEFAULT_PORT = 6379;
    static final int DEFAULT_SENTINEL_PORT = 26379;

    static RedisUrl parse(URI url) throws FsException {
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase();
        Mode mode;
        boolean tls = false;
        switch (scheme) {
            case "redis" -> mode = Mode.STANDALONE;
            case "rediss" -> {
                mode = Mode.STANDALONE;
                tls = true;
            }
            case "redis-sentinel" -> mode = Mode.SENTINEL;
            case "redis-cluster" -> mode = Mode.CLUSTER;
            default -> throw invalid(url, "unknown scheme " + scheme);
        }
        // Several hosts make the authority unparseable for java.net.URI: split it by hand.
        String authority = url.getRawAuthority();
        if (authority == null || authority.isEmpty()) {
            throw invalid(url, "no host");
        }
        String user = null;
        String password = null;
        int at = authority.lastIndexOf('@');
        if (at >= 0) {
            String info = authority.substring(0, at);
            authority = authority.substring(at + 1);
            int colon = info.indexOf(':');
            if (colon >= 0) {
                user = emptyToNull(decode(info.substring(0, colon)));
                password = decode(info.substring(colon + 1));
            } else {
                // redis://secret@host is the common password-only form.
                password = decode(info);
            }
        }
        int defaultPort = mode == Mode.SENTINEL ? DEFAULT_SENTINEL_PORT : DEFAULT_PORT;
        List<HostAndPort> nodes = new ArrayList<>();
        for (String hp : authority.split(",")) {
            nodes.add(hostAndPort(url, hp.trim(), defaultPort));
        }
        if (mode == Mode.STANDALONE && nodes.size() != 1) {
            throw invalid(url, "one host expected; use redis-sentinel:// or redis-cluster:// for several");
        }

        List<String> path = new ArrayList<>();
        String rawPath = url.getRawPath() == null ? "" : url.getRawPath();
        for (String seg : rawPath.split("/")) {
            if (!seg.isEmpty()) {
                path.add(decode(seg));
            }
        }
        Map<String, String> q = query(url);
        String master = null;
        int db = 0;
        String prefix = q.containsKey("prefix") ? tag(url, q.get("prefix")) : "";
        switch (mode) {
            case STANDALONE -> {
                if (path.size() > 1) {
                    throw invalid(url, "path must be /db");
                }
                db = path.isEmpty() ? 0 : dbNumber(url, path.get(0));
            }
            case SENTINEL -> {
                if (path.isEmpty() || path.size() > 2) {
                    throw invalid(url, "path must be /master[/db]");
                }
                master = path.get(0);
                db = path.size() == 2 ? dbNumber(url, path.get(1)) : 0;
            }
            case CLUSTER -> {
                if (path.size() > 1) {
                    throw invalid(url, "path must be /volume");
                }
                if (q.containsKey("prefix")) {
                    throw invalid(url, "in cluster mode the path names the volume's hash tag; prefix is not used");
                }
                prefix = tag(url, path.isEmpty() ? "hangar" : path.get(0));
            }
        }
        return new RedisUrl(mode, tls || Boolean.parseBoolean(q.getOrDefault("tls", "false")), List.copyOf(nodes),
                user, password, db, master, prefix, intOption(url, q, "timeout", 10_000),
                intOption(url, q, "connectTimeout", 2_000), intOption(url, q, "pool", 16),
                q.get("sentinelUser"), q.get("sentinelPassword"), q.get("truststore"), q.get("truststorePassword"));
    }

    /** Where the engine talks to, for error messages: never carries the password. */
    String describe() {
        String hosts = nodes.stream().map(HostAndPort::toString).collect(Collectors.joining(","));
        return switch (mode) {
            case STANDALONE -> hosts;
            case SENTINEL -> "master " + master + " via sentinels " + hosts;
            case CLUSTER -> "cluster " + hosts;
        };
    }

    private static HostAndPort hostAndPort(URI url, String hp, int defaultPort) throws FsException {
        if (hp.isEmpty()) {
            throw invalid(url, "empty host");
        }
        String host = hp;
        int port = defaultPort;
        int colon = hp.lastIndexOf(':');
        if (hp.startsWith("[")) {
            int close = hp.indexOf(']');
            if (close < 0) {
                throw invalid(url, "bad IPv6 address " + hp);
            }
            host = hp.substring(1, close);
            if (close + 1 < hp.length()) {
                if (hp.charAt(close + 1) != ':') {
                    throw invalid(url, "bad host " + hp);
                }
                port = port(url, hp.substring(close + 2));
            }
        } else if (colon >= 0) {
            host = hp.substring(0, colon);
            port = port(url, hp.substring(colon + 1));
        }
        return new HostAndPort(host, port);
    }

    private static int port(URI url, String s) throws FsException {
        try {
            int p = Integer.parseInt(s);
            if (p > 0 && p < 65536) {
                return p;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw invalid(url, "bad port " + s);
    }

    private static int dbNumber(URI url, String s) throws FsException {
        try {
            int db = Integer.parseInt(s);
            if (db >= 0) {
                return db;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw invalid(url, "bad database number " + s);
    }

    private static String tag(URI url, String name) throws FsException {
        if (name.isEmpty() || name.contains("{") || name.contains("}")) {
            throw invalid(url, "bad volume tag '" + name + "'");
        }
        return "{" + name + "}";
    }

    private static Map<String, String> query(URI url) {
        Map<String, String> q = new HashMap<>();
        String raw = url.getRawQuery();
        if (raw != null) {
            for (String kv : raw.split("&")) {
                int eq = kv.indexOf('=');
                if (eq > 0) {
                    q.put(decode(kv.substring(0, eq)), decode(kv.substring(eq + 1)));
                } else if (!kv.isEmpty()) {
                    q.put(decode(kv), "");
                }
            }
        }
        return q;
    }

    private static int intOption(URI url, Map<String, String> q, String name, int def) throws FsException {
        String v = q.get(name);
        if (v == null) {
            return def;
        }
        try {
            int n = Integer.parseInt(v);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw invalid(url, "bad value for " + name + ": " + v);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static String emptyToNull(String s) {
        return s.isEmpty() ? null : s;
    }

    private static FsException invalid(URI url, String why) {
        return new FsException(Errno.EINVAL, "bad redis metadata URL " + redact(url) + ": " + why);
    }

    /** The URL without credentials or options (which may hold a sentinel password), for messages. */
    static String redact(URI url) {
        String authority = url.getRawAuthority() == null ? "" : url.getRawAuthority();
        String path = url.getRawPath() == null ? "" : url.getRawPath();
        return url.getScheme() + "://" + authority.substring(authority.lastIndexOf('@') + 1) + path;
    }
}
