package io.hangar.frontend.http.s3;

import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.spi.frontend.Frontend;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * What one S3 gateway serves and how, parsed from {@link Frontend#start} options:
 * <ul>
 * <li>{@value #LISTEN}: {@code host:port} to listen on (default {@code 127.0.0.1:9000}; port 0 picks one);
 * <li>{@value #CREDENTIALS}: a credentials file (see {@link Credentials}); with
 * {@code HANGAR_S3_ACCESS_KEY}/{@code HANGAR_S3_SECRET_KEY} in the environment, one more full-access pair;
 * <li>{@value #REGION}: the region reported (default us-east-1; requests signed for any region are taken);
 * <li>{@value #MAX_SKEW}: seconds a request's time may differ from ours (default 900);
 * <li>{@value #UPLOAD_MAX_AGE}: hours after which an unfinished multipart upload is aborted (default 168);
 * <li>{@value #WORKERS}: threads doing volume I/O (default 32);
 * <li>{@value Frontend#OPTION_READ_ONLY}: refuse every change with AccessDenied;
 * <li>{@value #KEEP_ALIVE_MS}: how long a CompleteMultipartUpload may take before the 200 goes out and
 * whitespace keeps the connection alive, and the interval of that whitespace (default 5000);
 * <li>{@value #BUFFER_MB}: MiB of request bodies all requests together may hold while the volume writes
 * and the bytes GETs read ahead of their connections (default 64); past it requests pause;
 * <li>{@value #MAX_CONNECTIONS}: connections served at once (default 512); one more is answered 503
 * SlowDown and closed;
 * <li>{@value #DOMAIN}: the gateway's DNS name for virtual-hosted-style requests: a request whose Host is
 * {@code <bucket>.<domain>} addresses that bucket, its path the key (default none: path style only).
 * </ul>
 */
record GatewaySpec(String host, int port, Path credentials, String region, Duration maxSkew,
        Duration uploadMaxAge, int workers, boolean readOnly, long keepAliveMs, long bufferBytes, String domain,
        String apiTokenFile, int trashDays, int maxConnections) {
    static final String LISTEN = "listen";
    static final String CREDENTIALS = "credentials";
    static final String REGION = "region";
    static final String MAX_SKEW = "maxSkewSeconds";
    static final String UPLOAD_MAX_AGE = "uploadMaxAgeHours";
    static final String WORKERS = "workers";
    static final String KEEP_ALIVE_MS = "keepAliveMs";
    static final String BUFFER_MB = "bufferMb";
    static final String DOMAIN = "domain";
    static final String MAX_CONNECTIONS = "maxConnections";
    static final int DEFAULT_MAX_CONNECTIONS = 512;
    /** Where the repository API writes the first administrator token on first start (default: only logged). */
    static final String API_TOKEN_FILE = "apiTokenFile";
    /** Days the repository keeps trashed versions and files before purging them (0: purge at the next round). */
    static final String TRASH_DAYS = "trashDays";

    static GatewaySpec parse(Map<String, String> o) throws FsException {
        String listen = o.getOrDefault(LISTEN, "127.0.0.1:9000").trim();
        int colon = listen.lastIndexOf(':');
        if (colon <= 0) {
            throw new FsException(Errno.EINVAL, "listen must be host:port, not '" + listen + "'");
        }
        String host = listen.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = integer(listen.substring(colon + 1), LISTEN, 0, 65535);
        String cred = o.getOrDefault(CREDENTIALS, "").trim();
        String region = o.getOrDefault(REGION, "us-east-1").trim();
        if (region.isEmpty()) {
            region = "us-east-1";
        }
        return new GatewaySpec(host, port, cred.isEmpty() ? null : Path.of(cred), region,
                Duration.ofSeconds(integer(o.getOrDefault(MAX_SKEW, "900"), MAX_SKEW, 1, 86_400)),
                Duration.ofHours(integer(o.getOrDefault(UPLOAD_MAX_AGE, "168"), UPLOAD_MAX_AGE, 1, 87_600)),
                integer(o.getOrDefault(WORKERS, "32"), WORKERS, 1, 1024),
                bool(o.getOrDefault(Frontend.OPTION_READ_ONLY, "false")),
                integer(o.getOrDefault(KEEP_ALIVE_MS, "5000"), KEEP_ALIVE_MS, 1, 3_600_000),
                (long) integer(o.getOrDefault(BUFFER_MB, "64"), BUFFER_MB, 1, 65_536) << 20,
                domain(o.getOrDefault(DOMAIN, "")), o.getOrDefault(API_TOKEN_FILE, "").isBlank() ? null
                        : o.get(API_TOKEN_FILE).trim(),
                integer(o.getOrDefault(TRASH_DAYS, "1"), TRASH_DAYS, 0, 36_500),
                integer(o.getOrDefault(MAX_CONNECTIONS, Integer.toString(DEFAULT_MAX_CONNECTIONS)), MAX_CONNECTIONS,
                        1, 1_000_000));
    }

    /** A DNS name (lower case, no port, no leading or trailing dot), or "" for none. */
    private static String domain(String v) throws FsException {
        String d = v.trim().toLowerCase(java.util.Locale.ROOT);
        if (d.isEmpty()) {
            return "";
        }
        if (!d.matches("[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")) {
            throw new FsException(Errno.EINVAL, DOMAIN + " must be a DNS name like s3.example.com, not '" + v + "'");
        }
        return d;
    }

    private static int integer(String v, String key, int min, int max) throws FsException {
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new FsException(Errno.EINVAL, key + " must be an integer from " + min + " to " + max + ", not '" + v + "'");
    }

    private static boolean bool(String v) throws FsException {
        if (v.trim().equalsIgnoreCase("true") || v.trim().equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(v.trim());
        }
        throw new FsException(Errno.EINVAL, Frontend.OPTION_READ_ONLY + " must be true or false, not '" + v + "'");
    }
}
