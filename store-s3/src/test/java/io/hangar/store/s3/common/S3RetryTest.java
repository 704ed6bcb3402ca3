package io.hangar.store.s3.common;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.SocketTimeoutException;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/** Which failures the S3 store retries: 5xx, throttling and timeouts or broken connections; no other 4xx. */
class S3RetryTest {
    private static S3Exception error(int status, String code) {
        return (S3Exception) S3Exception.builder().statusCode(status)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).build()).build();
    }

    @Test
    void serverErrorsThrottlingAndTimeoutsAreRetried() {
        assertTrue(S3ChunkStore.retryable(error(500, "InternalError")));
        assertTrue(S3ChunkStore.retryable(error(502, null)));
        assertTrue(S3ChunkStore.retryable(error(503, "SlowDown")));
        assertTrue(S3ChunkStore.retryable(error(429, "TooManyRequests")));
        assertTrue(S3ChunkStore.retryable(error(400, "RequestTimeout")));
        assertTrue(S3ChunkStore.retryable(SdkClientException.create("read", new SocketTimeoutException("Read timed out"))));
        assertTrue(S3ChunkStore.retryable(SdkClientException.create("connect", new IOException("Connection refused"))));
        assertTrue(S3ChunkStore.throttling(error(503, "SlowDown")));
        assertTrue(S3ChunkStore.throttling(error(429, null)));
        assertFalse(S3ChunkStore.throttling(error(500, "InternalError")));
    }

    @Test
    void otherClientErrorsAreNot() {
        assertFalse(S3ChunkStore.retryable(error(400, "InvalidArgument")));
        assertFalse(S3ChunkStore.retryable(error(403, "AccessDenied")));
        assertFalse(S3ChunkStore.retryable(error(403, "SignatureDoesNotMatch")));
        assertFalse(S3ChunkStore.retryable(error(404, "NoSuchKey")));
        assertFalse(S3ChunkStore.retryable(error(409, "BucketNotEmpty")));
        assertFalse(S3ChunkStore.retryable(error(416, "InvalidRange")));
        assertFalse(S3ChunkStore.retryable(SdkClientException.create("Unable to load credentials")));
        assertFalse(S3ChunkStore.retryable(new IllegalStateException()));
    }
}
