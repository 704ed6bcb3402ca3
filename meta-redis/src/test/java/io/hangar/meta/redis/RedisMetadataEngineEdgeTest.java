package io.hangar.meta.redis;

import io.hangar.spi.meta.MetadataEngine;
import io.hangar.tck.meta.MetadataEngineEdgeTck;
import io.hangar.testing.RedisServer;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import redis.clients.jedis.RedisClient;

/** The second conformance kit on a real redis-server; every test gets a fresh key prefix. */
class RedisMetadataEngineEdgeTest extends MetadataEngineEdgeTck {
    private static RedisServer server;
    private String prefix;

    @BeforeAll
    static void startServer() throws Exception {
        server = RedisServer.start(Files.createTempDirectory("hangar-redis-edge-"));
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

    /** The entries, link count and names-per-directory hash as link.lua would leave them, in one transaction. */
    @Override
    protected void addLinks(long file, long dir, int count) throws Exception {
        try (RedisClient raw = RedisClient.create("127.0.0.1", server.port())) {
            String parent = raw.hget(prefix + "i" + file, "p");
            Map<String, Double> members = new HashMap<>();
            for (int i = 1; i <= count; i++) {
                members.put("l" + i + "\0f" + file, 0.0);
            }
            var t = raw.multi();
            t.zadd(prefix + "d" + dir, members);
            if (!parent.equals("0")) {
                t.hincrBy(prefix + "p" + file, parent, 1);
            }
            t.hincrBy(prefix + "p" + file, Long.toString(dir), count);
            t.hincrBy(prefix + "i" + file, "n", count);
            t.hset(prefix + "i" + file, "p", "0");
            t.exec();
        }
    }
}
