package io.hangar.frontend.http.s3;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.logging.Logger;

/**
 * Access keys: each with its secret and the buckets it may read and write. From a credentials file (Java
 * properties, re-read when it changes):
 *
 * <pre>
 * key.AKEXAMPLE.secret = s3cr3t
 * key.AKEXAMPLE.read   = *            # or a comma-separated list of buckets
 * key.AKEXAMPLE.write  = models,logs  # write implies read; '*' every bucket, also creating new ones
 * </pre>
 *
 * and one full-access pair from the environment ({@code HANGAR_S3_ACCESS_KEY}, {@code HANGAR_S3_SECRET_KEY}).
 */
final class Credentials {
    private static final Logger LOG = Logger.getLogger(Credentials.class.getName());
    static final String ENV_ACCESS = "HANGAR_S3_ACCESS_KEY";
    static final String ENV_SECRET = "HANGAR_S3_SECRET_KEY";

    /** One access key. */
    record Key(String accessKey, String secret, Set<String> read, Set<String> write) {
        boolean canRead(String bucket) {
            return read.contains("*") || read.contains(bucket) || canWrite(bucket);
        }

        boolean canWrite(String bucket) {
            return write.contains("*") || write.contains(bucket);
        }
    }

    private final Path file;
    private final Map<String, Key> fixed;
    private volatile Map<String, Key> fromFile = Map.of();
    private volatile FileTime loaded;
    private volatile long checkedAtNs;

    Credentials(Path file, Map<String, Key> fixed) {
        this.file = file;
        this.fixed = Map.copyOf(fixed);
    }

    /** The keys in {@code file} (may be null) plus the environment's pair, if set. */
    static Credentials load(Path file, Map<String, String> env) throws IOException {
        Map<String, Key> fixed = new HashMap<>();
        String ak = env.get(ENV_ACCESS);
        String sk = env.get(ENV_SECRET);
        if (ak != null && !ak.isBlank() && sk != null && !sk.isBlank()) {
            fixed.put(ak.trim(), new Key(ak.trim(), sk.trim(), Set.of("*"), Set.of("*")));
        }
        Credentials c = new Credentials(file, fixed);
        if (file != null) {
            c.fromFile = parse(file);
            c.loaded = Files.getLastModifiedTime(file);
        }
        return c;
    }

    boolean empty() {
        return fixed.isEmpty() && fromFile.isEmpty();
    }

    Key find(String accessKey) {
        Key k = fixed.get(accessKey);
        if (k != null) {
            return k;
        }
        refresh();
        return fromFile.get(accessKey);
    }

    /** Re-reads the file at most once a second, when its modification time changed. */
    private void refresh() {
        if (file == null || System.nanoTime() - checkedAtNs < 1_000_000_000L) {
            return;
        }
        checkedAtNs = System.nanoTime();
        try {
            FileTime t = Files.getLastModifiedTime(file);
            if (!t.equals(loaded)) {
                fromFile = parse(file);
                loaded = t;
                LOG.info("credentials re-read from " + file + ": " + fromFile.size() + " keys");
            }
        } catch (NoSuchFileException gone) {
            // Keep what was read: a file being replaced is briefly absent.
        } catch (IOException e) {
            LOG.warning("cannot re-read credentials " + file + ": " + e.getMessage());
        }
    }

    static Map<String, Key> parse(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        Map<String, Key> out = new HashMap<>();
        for (String name : p.stringPropertyNames()) {
            if (name.startsWith("key.") && name.endsWith(".secret")) {
                String ak = name.substring(4, name.length() - 7);
                String secret = p.getProperty(name).trim();
                if (ak.isEmpty() || secret.isEmpty()) {
                    throw new IOException(file + ": empty access key or secret in " + name);
                }
                out.put(ak, new Key(ak, secret, list(p.getProperty("key." + ak + ".read")),
                        list(p.getProperty("key." + ak + ".write"))));
            }
        }
        return out;
    }

    private static Set<String> list(String v) {
        if (v == null || v.isBlank()) {
            return Set.of();
        }
        Set<String> s = new java.util.HashSet<>();
        for (String b : v.split(",")) {
            if (!b.isBlank()) {
                s.add(b.trim());
            }
        }
        return Set.copyOf(s);
    }
}
