package io.hangar.meta.redis;

import io.hangar.testing.RedisServer;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.tck.meta.MetadataEngineTck;
import java.nio.file.Files;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The MetadataEngine conformance kit on a real redis-server; every test gets a fresh key prefix. */
class RedisMetadataEngineTest extends MetadataEngineTck {
    private static RedisServer server;
    private String prefix;

    @BeforeAll
    static void startServer() throws Exception {
        server = RedisServer.start(Files.createTempDirectory("hangar-redis-tck-"));
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Override
    protected MetadataEngine newEngine() throws Exception {
        prefix = RedisTestSupport.newPrefix();
        return reopen();
    }

    @Override
    protected MetadataEngine reopen() throws Exception {
        return new RedisMetadataEngineProvider().open(RedisTestSupport.url(server, prefix));
    }
}
