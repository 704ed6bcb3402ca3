package io.hangar.frontend.http.s3;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * One S3 gateway of a served volume: a factory configuration per gateway, e.g.
 * {@code etc/io.hangar.frontend.s3-default.cfg}. Written by {@code hangar gateway} and {@code hangar up}.
 */
@ObjectClassDefinition(name = "Hangar S3 gateway", description = "Serves a volume this runtime serves over the "
        + "S3 REST API.")
@interface S3GatewayConfig {
    String PID = "io.hangar.frontend.s3";

    @AttributeDefinition(description = "Name of the volume to serve (an io.hangar.volume configuration).")
    String volume();

    @AttributeDefinition(required = false, description = "host:port to listen on.")
    String listen() default "127.0.0.1:9000";

    @AttributeDefinition(required = false, description = "Credentials file: key.<access key>.secret, "
            + ".read and .write (bucket lists or *). HANGAR_S3_ACCESS_KEY/HANGAR_S3_SECRET_KEY add a full-access pair.")
    String credentials() default "";

    @AttributeDefinition(required = false, description = "Region reported to clients.")
    String region() default "us-east-1";

    @AttributeDefinition(required = false, description = "Largest clock difference accepted, in seconds.")
    int maxSkewSeconds() default 900;

    @AttributeDefinition(required = false, description = "Unfinished multipart uploads older than this many "
            + "hours are aborted and their data freed.")
    int uploadMaxAgeHours() default 168;

    @AttributeDefinition(required = false, description = "Threads doing volume I/O.")
    int workers() default 32;

    @AttributeDefinition(required = false, description = "MiB of request bodies all requests together may "
            + "hold while the volume writes, and of response bodies read ahead of their connections; past it "
            + "requests pause.")
    int bufferMb() default 64;

    @AttributeDefinition(required = false, description = "Connections served at once; one more is answered "
            + "503 SlowDown and closed.")
    int maxConnections() default GatewaySpec.DEFAULT_MAX_CONNECTIONS;

    @AttributeDefinition(required = false, description = "Refuse every change with AccessDenied.")
    boolean readOnly() default false;

    @AttributeDefinition(required = false, description = "DNS name for virtual-hosted-style requests "
            + "(<bucket>.<domain>); empty: path style only.")
    String domain() default "";

    @AttributeDefinition(required = false, description = "Days the model repository keeps trashed versions and "
            + "files before purging them (0: at the next hourly round).")
    int trashDays() default 1;
}
