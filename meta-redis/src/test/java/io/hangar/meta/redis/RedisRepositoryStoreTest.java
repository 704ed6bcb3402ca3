package io.hangar.meta.redis;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.spi.meta.MetaProblem;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.repo.AuditEvent;
import io.hangar.spi.repo.RepoWrite;
import io.hangar.spi.repo.RepositoryStore;
import io.hangar.spi.repo.RepositoryStoreProvider;
import io.hangar.tck.repo.RepositoryStoreTck;
import io.hangar.testing.RedisServer;
import java.net.URI;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/**
 * The repository store kit on a real redis-server, opened through the provider as a runtime does; every test
 * gets a fresh key prefix, so a new, empty repository.
 */
class RedisRepositoryStoreTest extends RepositoryStoreTck {
    private static RedisServer server;
    private URI url;
    private String prefix;

    @BeforeAll
    static void startServer() throws Exception {
        server = RedisServer.start(Files.createTempDirectory("hangar-redis-repo-"));
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private static RepositoryStoreProvider provider() {
        return ServiceLoader.load(RepositoryStoreProvider.class).stream().map(ServiceLoader.Provider::get)
                .filter(p -> p.schemes().contains("redis")).findFirst().orElseThrow();
    }

    @Override
    protected RepositoryStore newStore() throws Exception {
        prefix = RedisTestSupport.newPrefix();
        url = RedisTestSupport.url(server, prefix);
        return provider().open(url);
    }

    @Override
    protected RepositoryStore reopen() throws Exception {
        return provider().open(url);
    }

    /**
     * Beside a formatted volume, every repository key carries the volume's prefix (its hash tag: one cluster
     * slot) and then 'R', the engine's keys are untouched, and the engine's check finds nothing to say.
     */
    @Test
    void repositoryKeysLiveUnderTheVolumePrefixApartFromTheEngine() throws Exception {
        try (MetadataEngine engine = new RedisMetadataEngineProvider().open(url);
                RedisClient raw = RedisClient.create("127.0.0.1", server.port())) {
            engine.format(RedisTestSupport.format("repo"));
            Set<String> before = raw.keys("*");
            store.commit(List.of(), List.of(RepoWrite.put("team/a", "x".getBytes(UTF_8)),
                    RepoWrite.put("setting", "y".getBytes(UTF_8)), RepoWrite.put("i1", "z".getBytes(UTF_8))),
                    List.of(new AuditEvent("a", "u", "m", "create".getBytes(UTF_8)),
                            new AuditEvent(null, "u", null, "site".getBytes(UTF_8))));
            Set<String> after = raw.keys("*");
            assertTrue(after.containsAll(before), "no key of the engine (or of another volume) went away");
            assertEquals(List.of(prefix + "Raa", prefix + "Ram" + "m", prefix + "Rat" + "a", prefix + "Rau" + "u",
                    prefix + "Re1", prefix + "Re2", prefix + "Rkeys", prefix + "Rseq", prefix + "Rval",
                    prefix + "Rver"), after.stream().filter(k -> !before.contains(k)).sorted().toList());
            assertEquals(1, engine.getattr(MetadataEngine.ROOT).inode());
            List<MetaProblem> problems = new ArrayList<>();
            engine.check(false, problems::add);
            assertEquals(List.of(), problems);
        }
    }
}
