package io.hangar.frontend.http.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** aws-chunked framing in all three streaming modes, fed in awkward pieces; tampering is caught. */
class ChunkedDecoderTest {
    static final byte[] KEY = SigV4.hmac("AWS4secret".getBytes(StandardCharsets.UTF_8), "20260101");
    static final String SEED = "a".repeat(64);

    static SigV4.Auth auth(String mode) {
        return new SigV4.Auth(null, mode, "20260101T000000Z", "20260101/us-east-1/s3/aws4_request", KEY, SEED);
    }

    /** Encodes {@code data} as aws-chunked with chunks of {@code size}; signed when the mode says so. */
    static byte[] encode(SigV4.Auth a, byte[] data, int size, String trailerName, String trailerValue) {
        boolean signed = a.payloadHash().startsWith("STREAMING-AWS4-HMAC");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String prev = SEED;
        for (int off = 0; off <= data.length; off += size) {
            int n = Math.min(size, data.length - off);
            byte[] chunk = java.util.Arrays.copyOfRange(data, off, off + n);
            String head = Integer.toHexString(n);
            if (signed) {
                prev = SigV4.chunkSignature(a, prev, SigV4.sha256Hex(chunk));
                head += ";chunk-signature=" + prev;
            }
            out.writeBytes((head + "\r\n").getBytes(StandardCharsets.US_ASCII));
            if (n == 0) {
                break;
            }
            out.writeBytes(chunk);
            if (off + n == data.length) {
                prev = SigV4.chunkSignature(a, prev, SigV4.sha256Hex(new byte[0]));
                out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
                out.writeBytes(("0" + (signed ? ";chunk-signature=" + prev : "") + "\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                break;
            }
            out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        if (trailerName != null) {
            out.writeBytes((trailerName + ":" + trailerValue + "\r\n").getBytes(StandardCharsets.US_ASCII));
            if (a.payloadHash().equals(SigV4.STREAMING_SIGNED_TRAILER)) {
                String sig = SigV4.trailerSignature(a, prev, trailerName + ":" + trailerValue + "\n");
                out.writeBytes(("x-amz-trailer-signature:" + sig + "\r\n").getBytes(StandardCharsets.US_ASCII));
            }
        }
        out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    static byte[] decode(SigV4.Auth a, byte[] body, int piece, ChunkedDecoder[] keep) throws S3Error {
        ChunkedDecoder d = new ChunkedDecoder(a);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int off = 0; off < body.length; off += piece) {
            d.feed(body, off, Math.min(piece, body.length - off), out::write);
        }
        d.finish();
        if (keep != null) {
            keep[0] = d;
        }
        return out.toByteArray();
    }

    @Test
    void everyModeRoundTrips() throws Exception {
        byte[] data = new byte[200_003];
        new Random(1).nextBytes(data);
        Checksum crc = Checksum.of("crc32");
        crc.update(data, 0, data.length);
        for (String mode : new String[] {SigV4.STREAMING_SIGNED, SigV4.STREAMING_SIGNED_TRAILER,
                SigV4.STREAMING_UNSIGNED_TRAILER}) {
            SigV4.Auth a = auth(mode);
            String trailer = mode.equals(SigV4.STREAMING_SIGNED) ? null : "x-amz-checksum-crc32";
            byte[] body = encode(a, data, 65536, trailer, crc.value());
            for (int piece : new int[] {1, 7, 8192, body.length}) {
                ChunkedDecoder[] d = new ChunkedDecoder[1];
                assertArrayEquals(data, decode(a, body, piece, d), mode + " in pieces of " + piece);
                if (trailer != null) {
                    assertEquals(crc.value(), d[0].trailers().get(trailer));
                }
            }
        }
    }

    @Test
    void tamperedChunksAndTruncatedBodiesFail() {
        byte[] data = "hello, chunked world".getBytes(StandardCharsets.UTF_8);
        SigV4.Auth a = auth(SigV4.STREAMING_SIGNED);
        byte[] body = encode(a, data, 8, null, null);
        byte[] bad = body.clone();
        int at = new String(bad, StandardCharsets.ISO_8859_1).indexOf("hello");
        bad[at] = 'j';
        assertEquals("SignatureDoesNotMatch", assertThrows(S3Error.class, () -> decode(a, bad, 5, null)).code);
        byte[] cut = java.util.Arrays.copyOf(body, body.length - 10);
        assertEquals("IncompleteBody", assertThrows(S3Error.class, () -> decode(a, cut, 5, null)).code);
        SigV4.Auth t = auth(SigV4.STREAMING_SIGNED_TRAILER);
        byte[] tb = new String(encode(t, data, 8, "x-amz-checksum-crc32", "AAAAAA=="), StandardCharsets.ISO_8859_1)
                .replace("AAAAAA==", "BBBBBB==").getBytes(StandardCharsets.ISO_8859_1);
        assertEquals("SignatureDoesNotMatch", assertThrows(S3Error.class, () -> decode(t, tb, 100, null)).code);
        assertEquals("IncompleteBody", assertThrows(S3Error.class, () -> decode(auth(SigV4.STREAMING_UNSIGNED_TRAILER),
                "zz\r\n".getBytes(StandardCharsets.US_ASCII), 10, null)).code);
        assertEquals(HexFormat.of().formatHex(new byte[0]), "");
    }
}
