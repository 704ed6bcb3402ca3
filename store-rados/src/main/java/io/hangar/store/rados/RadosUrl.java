package io.hangar.store.rados;

import io.hangar.spi.store.StoreException;
import io.hangar.spi.store.StoreException.Kind;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A parsed {@code rados://pool[/namespace]?…} URL. Parameters:
 * <ul>
 * <li>{@code conf}: the ceph.conf to read (default {@code /etc/ceph/ceph.conf}); mon addresses, keyring path</li>
 * <li>{@code user}: the cephx user, {@code admin} or {@code client.admin} (default {@code admin})</li>
 * <li>{@code keyring}: a keyring file, overriding the conf's</li>
 * <li>{@code connect-timeout}: seconds to reach the monitors and authenticate (default 10)</li>
 * <li>{@code op-timeout}: seconds one object operation may wait for an OSD before it fails as TRANSIENT
 * (default 30; 0 waits for ever)</li>
 * </ul>
 * There is no parameter for the key itself: a volume records its store URL and {@code status} shows it, so
 * the secret stays in the keyring file.
 */
record RadosUrl(String pool, String namespace, String conf, String user, String keyring,
        int connectTimeout, int opTimeout) {

    static RadosUrl parse(URI url) throws StoreException {
        String pool = url.getRawAuthority();
        if (!"rados".equals(url.getScheme()) || pool == null || pool.isEmpty() || pool.contains("@")) {
            throw new StoreException(Kind.INVALID, "a RADOS store URL is rados://pool[/namespace]?conf=…&user=…, was "
                    + safe(url));
        }
        pool = decode(pool);
        String path = url.getRawPath() == null ? "" : decode(url.getRawPath());
        String ns = path.startsWith("/") ? path.substring(1) : path;
        if (ns.endsWith("/")) {
            ns = ns.substring(0, ns.length() - 1);
        }
        Map<String, String> q = new LinkedHashMap<>();
        if (url.getRawQuery() != null && !url.getRawQuery().isEmpty()) {
            for (String kv : url.getRawQuery().split("&")) {
                int eq = kv.indexOf('=');
                String k = decode(eq < 0 ? kv : kv.substring(0, eq));
                String v = eq < 0 ? "" : decode(kv.substring(eq + 1));
                if (q.put(k, v) != null) {
                    throw new StoreException(Kind.INVALID, "parameter " + k + " given twice in " + safe(url));
                }
            }
        }
        String conf = q.remove("conf");
        String user = q.remove("user");
        String keyring = q.remove("keyring");
        int connect = seconds(q.remove("connect-timeout"), 10, "connect-timeout");
        int op = seconds(q.remove("op-timeout"), 30, "op-timeout");
        if (!q.isEmpty()) {
            throw new StoreException(Kind.INVALID, "unknown parameter(s) " + q.keySet()
                    + " in RADOS store URL (known: conf, user, keyring, connect-timeout, op-timeout)");
        }
        if (user == null || user.isEmpty()) {
            user = "admin";
        } else if (user.startsWith("client.")) {
            user = user.substring("client.".length());
        }
        return new RadosUrl(pool, ns, conf == null || conf.isEmpty() ? "/etc/ceph/ceph.conf" : conf, user,
                keyring == null || keyring.isEmpty() ? null : keyring, connect, op);
    }

    private static int seconds(String v, int def, String name) throws StoreException {
        if (v == null || v.isEmpty()) {
            return def;
        }
        try {
            int s = Integer.parseInt(v);
            if (s < 0) {
                throw new NumberFormatException();
            }
            return s;
        } catch (NumberFormatException e) {
            throw new StoreException(Kind.INVALID, name + " must be a number of seconds, was '" + v + "'");
        }
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    /** The URL without its query: fit for a message about a malformed URL. */
    private static String safe(URI url) {
        String s = url.toString();
        int q = s.indexOf('?');
        return q < 0 ? s : s.substring(0, q) + "?…";
    }

    /** The URL in a normal form (it holds no secret: keys stay in keyring files). */
    String describe() {
        StringBuilder b = new StringBuilder("rados://").append(pool);
        if (!namespace.isEmpty()) {
            b.append('/').append(namespace);
        }
        b.append("?conf=").append(enc(conf)).append("&user=").append(enc(user));
        if (keyring != null) {
            b.append("&keyring=").append(enc(keyring));
        }
        return b.toString();
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("%2F", "/");
    }
}
