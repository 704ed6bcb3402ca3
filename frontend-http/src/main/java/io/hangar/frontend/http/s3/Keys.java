package io.hangar.frontend.http.s3;

import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.regex.Pattern;

/**
 * Bucket names and object keys. A bucket is a top-level directory of the volume; a key is a '/'-separated
 * path below it. Keys are ordered as S3 orders them: by UTF-8 bytes, which is code point order.
 */
final class Keys {
    /** The gateway's own directory at the volume root (multipart uploads, PUTs in flight); never a bucket. */
    static final String STATE_DIR = ".hangar-s3";
    static final int MAX_KEY_BYTES = 1024;
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
    private static final Pattern IP = Pattern.compile("\\d+\\.\\d+\\.\\d+\\.\\d+");

    /** Code point (= UTF-8 byte) order. */
    static final Comparator<String> ORDER = Keys::compare;

    private Keys() {
    }

    static int compare(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }

    static void checkBucket(String bucket) throws S3Error {
        if (!BUCKET.matcher(bucket).matches() || bucket.contains("..") || IP.matcher(bucket).matches()
                || bucket.contains(".-") || bucket.contains("-.")) {
            throw new S3Error(400, "InvalidBucketName", "The specified bucket is not valid: " + bucket);
        }
        if (bucket.equals("api")) {
            // /api/v1/... is the repository's REST API on the same port.
            throw new S3Error(400, "InvalidBucketName", "The bucket name 'api' is reserved for the repository API.");
        }
    }

    /**
     * Checks a key: at most 1024 UTF-8 bytes, no empty, "." or ".." segment (nothing may resolve outside its
     * bucket), no NUL. A key ending in '/' names a directory (a directory marker).
     */
    static void checkKey(String key) throws S3Error {
        if (key.isEmpty()) {
            throw S3Error.invalidArgument("empty object key");
        }
        if (key.getBytes(StandardCharsets.UTF_8).length > MAX_KEY_BYTES) {
            throw new S3Error(400, "KeyTooLongError", "Your key is too long (more than 1024 bytes)");
        }
        String body = key.endsWith("/") ? key.substring(0, key.length() - 1) : key;
        for (String seg : body.split("/", -1)) {
            if (seg.isEmpty() || seg.equals(".") || seg.equals("..")) {
                throw S3Error.invalidArgument("object key '" + key
                        + "' has an empty, '.' or '..' segment: keys are paths inside their bucket");
            }
            if (seg.indexOf('\0') >= 0) {
                throw S3Error.invalidArgument("object key contains NUL");
            }
            if (seg.getBytes(StandardCharsets.UTF_8).length > 255) {
                throw new S3Error(400, "KeyTooLongError", "a '/'-separated segment of the key is longer than 255 "
                        + "bytes, which the volume cannot store: " + key);
            }
        }
    }

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    /** AWS URI encoding: every byte but A-Z a-z 0-9 - _ . ~ percent-encoded; '/' kept when {@code path}. */
    static String uriEncode(String s, boolean path) {
        StringBuilder sb = new StringBuilder(s.length() + 16);
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
                    || c == '.' || c == '~' || (path && c == '/')) {
                sb.append((char) c);
            } else {
                sb.append('%').append(HEX[c >> 4]).append(HEX[c & 15]);
            }
        }
        return sb.toString();
    }

    /** Percent-decoding of a path or query component ('+' is a space only in a query). */
    static String uriDecode(String s, boolean query) throws S3Error {
        if (s.indexOf('%') < 0 && (!query || s.indexOf('+') < 0)) {
            return s;
        }
        byte[] out = new byte[s.length()];
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    throw S3Error.invalidArgument("malformed percent-encoding in " + s);
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw S3Error.invalidArgument("malformed percent-encoding in " + s);
                }
                out[n++] = (byte) (hi << 4 | lo);
                i += 2;
            } else if (c == '+' && query) {
                out[n++] = ' ';
            } else if (c < 0x80) {
                out[n++] = (byte) c;
            } else {
                byte[] u = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                if (n + u.length > out.length) {
                    byte[] bigger = new byte[out.length * 3 + 3];
                    System.arraycopy(out, 0, bigger, 0, n);
                    out = bigger;
                }
                System.arraycopy(u, 0, out, n, u.length);
                n += u.length;
            }
        }
        return new String(out, 0, n, StandardCharsets.UTF_8);
    }
}
