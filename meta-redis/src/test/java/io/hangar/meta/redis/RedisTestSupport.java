package io.hangar.meta.redis;

import io.hangar.testing.RedisServer;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.VolumeFormat;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** One real redis-server per test class; every engine gets its own key prefix, so tests never see each other. */
abstract class RedisTestSupport {
    private static final AtomicInteger VOLUMES = new AtomicInteger();
    protected static RedisServer server;
    protected static Path serverDir;

    @BeforeAll
    static void startServer() throws Exception {
        serverDir = Files.createTempDirectory("hangar-redis-");
        server = RedisServer.start(serverDir);
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    /** A fresh prefix ("{v<n>}"): a new, empty volume on the shared server. */
    static String newPrefix() {
        return "{v" + VOLUMES.incrementAndGet() + "}";
    }

    static URI url(String prefix) {
        return url(server, prefix);
    }

    static URI url(RedisServer on, String prefix) {
        return URI.create(on.url(0) + "?prefix=" + prefix.substring(1, prefix.length() - 1));
    }

    static MetadataEngine open(String prefix) throws Exception {
        return new RedisMetadataEngineProvider().open(url(prefix));
    }

    static VolumeFormat format(String name) {
        return new VolumeFormat(name, UUID.randomUUID().toString(), "file:///tmp/none", 1 << 20, 4 << 20, 0, 0,
                System.currentTimeMillis());
    }
}
