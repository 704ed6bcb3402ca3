package io.hangar.frontend.http.s3;

import io.hangar.spi.frontend.Endpoint;
import io.hangar.vfs.standalone.OpenVolume;
import io.hangar.vfs.standalone.Volumes;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * The gateway without a framework (test class path): {@code GatewayMain <meta-url> [--listen HOST:PORT]
 * [--credentials FILE] [--read-only]}; credentials also from HANGAR_S3_ACCESS_KEY/HANGAR_S3_SECRET_KEY.
 * Prints "listening <url>" and serves until killed.
 */
public final class GatewayMain {
    private GatewayMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: GatewayMain META-URL [--listen HOST:PORT] [--credentials FILE] [--read-only]");
            System.exit(2);
        }
        Map<String, String> opts = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--listen" -> opts.put(GatewaySpec.LISTEN, args[++i]);
                case "--credentials" -> opts.put(GatewaySpec.CREDENTIALS, args[++i]);
                case "--read-only" -> opts.put("readOnly", "true");
                default -> {
                    System.err.println("unknown option " + args[i]);
                    System.exit(2);
                }
            }
        }
        OpenVolume v = Volumes.open(args[0], Map.of());
        Endpoint e = new S3Frontend().start(v, opts);
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                e.close();
                v.close();
            } catch (Exception ex) {
                System.err.println("stopping: " + ex.getMessage());
            }
            stop.countDown();
        }));
        System.out.println("listening " + e.address());
        System.out.flush();
        stop.await();
    }
}
