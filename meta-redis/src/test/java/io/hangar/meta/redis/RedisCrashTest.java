package io.hangar.meta.redis;

import io.hangar.spi.meta.MetadataEngine;
import io.hangar.tck.crash.MetaCrashTck;
import io.hangar.testing.RedisServer;
import java.net.URI;
import java.nio.file.Files;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The crash kit on Redis: the killed client dies between and inside its scripts' round trips, with a
 * session and open files registered on the server. Each round is a new key prefix on one real server.
 */
class RedisCrashTest extends MetaCrashTck {
    private static RedisServer server;
    private static final AtomicInteger ROUNDS = new AtomicInteger();

    @BeforeAll
    static void startServer() throws Exception {
        server = RedisServer.start(Files.createTempDirectory("hangar-redis-crash-"));
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Override
    protected String freshBackendUrl() {
        return server.url(0) + "?prefix=crash" + ROUNDS.incrementAndGet();
    }

    @Override
    protected MetadataEngine open(String url) throws Exception {
        return RedisMetadataEngine.open(URI.create(url));
    }
}
