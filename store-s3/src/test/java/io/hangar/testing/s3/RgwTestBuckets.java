package io.hangar.testing.s3;

import io.hangar.testing.ceph.CephTestCluster;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.UUID;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Buckets on the test cluster's radosgw, and a credentials file (AWS format, profile {@code hangar-test})
 * that store URLs name with {@code profile=…&credentials-file=…}: the keys never go into a URL.
 */
public final class RgwTestBuckets {
    public static final String PROFILE = "hangar-test";
    private static Path credentials;
    private static S3Client admin;

    private RgwTestBuckets() {
    }

    /** The credentials file with the cluster's S3 user under profile {@link #PROFILE}. */
    public static synchronized Path credentialsFile() throws IOException {
        if (credentials == null) {
            Path f = Files.createTempFile("hangar-s3-test", ".credentials",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            f.toFile().deleteOnExit();
            Files.writeString(f, "[" + PROFILE + "]\naws_access_key_id = " + CephTestCluster.get("S3_ACCESS_KEY")
                    + "\naws_secret_access_key = " + CephTestCluster.get("S3_SECRET_KEY") + "\n");
            credentials = f;
        }
        return credentials;
    }

    /** A client of the test's own (path-style), to create buckets and look behind the store. */
    public static synchronized S3Client admin() throws IOException {
        if (admin == null) {
            admin = S3Client.builder()
                    .httpClient(ApacheHttpClient.builder().build())
                    .endpointOverride(URI.create(CephTestCluster.get("RGW_ENDPOINT")))
                    .region(Region.of(CephTestCluster.get("S3_REGION")))
                    .forcePathStyle(true)
                    .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                    .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                            CephTestCluster.get("S3_ACCESS_KEY"), CephTestCluster.get("S3_SECRET_KEY"))))
                    .build();
        }
        return admin;
    }

    /** A new, empty bucket. */
    public static String newBucket(String what) throws IOException {
        String b = what + "-" + UUID.randomUUID().toString().substring(0, 18);
        admin().createBucket(r -> r.bucket(b));
        return b;
    }
}
