package io.hangar.frontend.http.repo;

import io.hangar.testing.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The repository's rules again with the volume and its repository on a real Redis: a new key prefix per test. */
class RedisRepositoryTest extends RepositoryTest {
    private static final AtomicInteger VOLUMES = new AtomicInteger();
    private static RedisServer server;

    @BeforeAll
    static void startServer() throws Exception {
        server = RedisServer.start(Files.createTempDirectory("hangar-redis-repository-"));
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Override
    protected String newMetaUrl(Path dir) {
        return server.url(0) + "?prefix=repo" + VOLUMES.incrementAndGet();
    }
}
