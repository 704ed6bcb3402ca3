package io.hangar.frontend.http.s3;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Decodes an {@code aws-chunked} body as it arrives: {@code <hex size>[;chunk-signature=<sig>]\r\n<data>\r\n}
 * … a final chunk of size 0, then trailing headers ({@code x-amz-checksum-*}, and for the signed trailer mode
 * {@code x-amz-trailer-signature}) and an empty line. In the signed modes every chunk's signature is checked
 * against the chain that starts at the request's seed signature; a bad one fails with SignatureDoesNotMatch.
 * Data is handed on as soon as it is read (it goes to a temporary file; a failure discards it).
 */
final class ChunkedDecoder {
    /** Receives decoded data. */
    interface Sink {
        void data(byte[] b, int off, int len) throws S3Error;
    }

    private static final int MAX_LINE = 4096;

    private enum State { HEADER, DATA, DATA_CR, DATA_LF, TRAILER, DONE }

    private final SigV4.Auth auth;
    private final boolean signedChunks;
    private final boolean signedTrailer;
    private State state = State.HEADER;
    private final StringBuilder line = new StringBuilder();
    private boolean sawCr;
    private long remaining;
    private String chunkSignature;
    private String prevSignature;
    private final MessageDigest chunkHash;
    private long decoded;
    private final Map<String, String> trailers = new LinkedHashMap<>();
    private String trailerSignature;

    ChunkedDecoder(SigV4.Auth auth) {
        this.auth = auth;
        this.signedChunks = auth.payloadHash().equals(SigV4.STREAMING_SIGNED)
                || auth.payloadHash().equals(SigV4.STREAMING_SIGNED_TRAILER);
        this.signedTrailer = auth.payloadHash().equals(SigV4.STREAMING_SIGNED_TRAILER);
        this.prevSignature = auth.seedSignature();
        this.chunkHash = signedChunks ? SigV4.sha256() : null;
    }

    long decodedLength() {
        return decoded;
    }

    /** The trailing headers, lower-case names. */
    Map<String, String> trailers() {
        return trailers;
    }

    void feed(byte[] b, int off, int len, Sink out) throws S3Error {
        int i = off;
        int end = off + len;
        while (i < end) {
            switch (state) {
                case HEADER, TRAILER -> {
                    byte c = b[i++];
                    if (readLine(c)) {
                        String l = line.toString();
                        line.setLength(0);
                        if (state == State.HEADER) {
                            header(l);
                        } else {
                            trailer(l);
                        }
                    }
                }
                case DATA -> {
                    int n = (int) Math.min(remaining, end - i);
                    if (chunkHash != null) {
                        chunkHash.update(b, i, n);
                    }
                    out.data(b, i, n);
                    decoded += n;
                    remaining -= n;
                    i += n;
                    if (remaining == 0) {
                        state = State.DATA_CR;
                    }
                }
                case DATA_CR -> {
                    if (b[i++] != '\r') {
                        throw incomplete("chunk data is not followed by CRLF");
                    }
                    state = State.DATA_LF;
                }
                case DATA_LF -> {
                    if (b[i++] != '\n') {
                        throw incomplete("chunk data is not followed by CRLF");
                    }
                    endOfChunk();
                    state = State.HEADER;
                }
                case DONE -> throw incomplete("data after the end of the aws-chunked body");
            }
        }
    }

    /** Called at the end of the request body: the final chunk and the trailers must have been read. */
    void finish() throws S3Error {
        if (state != State.DONE) {
            throw incomplete("the aws-chunked body ended before its final chunk");
        }
    }

    private boolean readLine(byte c) throws S3Error {
        if (sawCr) {
            if (c != '\n') {
                throw incomplete("a chunk header line does not end in CRLF");
            }
            sawCr = false;
            return true;
        }
        if (c == '\r') {
            sawCr = true;
            return false;
        }
        if (line.length() >= MAX_LINE) {
            throw incomplete("a chunk header or trailer line is longer than " + MAX_LINE + " bytes");
        }
        line.append((char) (c & 0xff));
        return false;
    }

    private void header(String l) throws S3Error {
        int semi = l.indexOf(';');
        String size = (semi < 0 ? l : l.substring(0, semi)).trim();
        chunkSignature = null;
        if (semi >= 0) {
            for (String ext : l.substring(semi + 1).split(";")) {
                int eq = ext.indexOf('=');
                if (eq > 0 && ext.substring(0, eq).trim().equals("chunk-signature")) {
                    chunkSignature = ext.substring(eq + 1).trim();
                }
            }
        }
        try {
            remaining = Long.parseLong(size, 16);
        } catch (NumberFormatException e) {
            throw incomplete("malformed chunk size '" + (size.length() > 20 ? size.substring(0, 20) : size) + "'");
        }
        if (remaining < 0) {
            throw incomplete("negative chunk size");
        }
        if (signedChunks && chunkSignature == null) {
            throw SigV4.mismatch();
        }
        if (remaining == 0) {
            endOfChunk();
            state = State.TRAILER;
        } else {
            state = State.DATA;
        }
    }

    private void endOfChunk() throws S3Error {
        if (!signedChunks) {
            return;
        }
        String expected = SigV4.chunkSignature(auth, prevSignature, HexFormat.of().formatHex(chunkHash.digest()));
        if (!MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
                chunkSignature.getBytes(StandardCharsets.US_ASCII))) {
            throw SigV4.mismatch();
        }
        prevSignature = expected;
    }

    private void trailer(String l) throws S3Error {
        if (l.isEmpty()) {
            if (signedTrailer) {
                StringBuilder canon = new StringBuilder();
                trailers.forEach((k, v) -> canon.append(k).append(':').append(v).append('\n'));
                if (trailerSignature == null) {
                    throw SigV4.mismatch();
                }
                String expected = SigV4.trailerSignature(auth, prevSignature, canon.toString());
                if (!MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
                        trailerSignature.getBytes(StandardCharsets.US_ASCII))) {
                    throw SigV4.mismatch();
                }
            }
            state = State.DONE;
            return;
        }
        int colon = l.indexOf(':');
        if (colon <= 0) {
            throw incomplete("malformed trailer line");
        }
        String name = l.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String value = l.substring(colon + 1).trim();
        if (name.equals("x-amz-trailer-signature")) {
            trailerSignature = value;
        } else {
            trailers.put(name, value);
        }
    }

    private static S3Error incomplete(String why) {
        return new S3Error(400, "IncompleteBody", "The request body is not a valid aws-chunked encoding: " + why);
    }
}
