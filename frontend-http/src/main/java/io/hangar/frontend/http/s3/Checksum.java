package io.hangar.frontend.http.s3;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Locale;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;


/**
 * The additional checksums current SDKs send ({@code x-amz-checksum-<algorithm>}, as a header or an
 * aws-chunked trailer): computed while the body streams and compared at its end (BadDigest).
 */
abstract class Checksum {
    final String algorithm;

    private Checksum(String algorithm) {
        this.algorithm = algorithm;
    }

    abstract void update(byte[] b, int off, int len);

    /** Base64 of the big-endian value, as the header carries it. */
    abstract String value();

    /** The header name, e.g. {@code x-amz-checksum-crc32}. */
    String header() {
        return "x-amz-checksum-" + algorithm;
    }

    /** The checksum of {@code algorithm} (crc32, crc32c, crc64nvme, sha1, sha256), or null if unknown. */
    static Checksum of(String algorithm) {
        switch (algorithm.toLowerCase(Locale.ROOT)) {
            case "crc32":
                return new Crc("crc32", new CRC32());
            case "crc32c":
                return new Crc("crc32c", new CRC32C());
            case "crc64nvme":
                return new Crc64Nvme();
            case "sha1":
                return new Digest("sha1", "SHA-1");
            case "sha256":
                return new Digest("sha256", "SHA-256");
            default:
                return null;
        }
    }

    private static final class Crc extends Checksum {
        private final Checksum32 c;

        Crc(String name, java.util.zip.Checksum c) {
            super(name);
            this.c = new Checksum32(c);
        }

        @Override
        void update(byte[] b, int off, int len) {
            c.c.update(b, off, len);
        }

        @Override
        String value() {
            return Base64.getEncoder().encodeToString(ByteBuffer.allocate(4).putInt((int) c.c.getValue()).array());
        }
    }

    private record Checksum32(java.util.zip.Checksum c) {
    }

    private static final class Digest extends Checksum {
        private final MessageDigest md;

        Digest(String name, String jdk) {
            super(name);
            try {
                md = MessageDigest.getInstance(jdk);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        void update(byte[] b, int off, int len) {
            md.update(b, off, len);
        }

        @Override
        String value() {
            return Base64.getEncoder().encodeToString(md.digest());
        }
    }

    /** CRC-64/NVME: reflected polynomial 0x9A6C9329AC4BC9B5, initial and final value all ones. */
    private static final class Crc64Nvme extends Checksum {
        private static final long[] TABLE = new long[256];

        static {
            for (int i = 0; i < 256; i++) {
                long crc = i;
                for (int k = 0; k < 8; k++) {
                    crc = (crc & 1) != 0 ? (crc >>> 1) ^ 0x9A6C9329AC4BC9B5L : crc >>> 1;
                }
                TABLE[i] = crc;
            }
        }

        private long crc = -1L;

        Crc64Nvme() {
            super("crc64nvme");
        }

        @Override
        void update(byte[] b, int off, int len) {
            long c = crc;
            for (int i = off; i < off + len; i++) {
                c = TABLE[(int) ((c ^ b[i]) & 0xff)] ^ (c >>> 8);
            }
            crc = c;
        }

        @Override
        String value() {
            return Base64.getEncoder().encodeToString(ByteBuffer.allocate(8).putLong(~crc).array());
        }
    }
}
