package io.hangar.meta.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.HostAndPort;

class RedisUrlTest {
    private static RedisUrl parse(String s) throws FsException {
        return RedisUrl.parse(URI.create(s));
    }

    @Test
    void plainUrlWithPasswordAndDatabase() throws Exception {
        RedisUrl u = parse("redis://:s3cret@10.1.2.3:6390/4?prefix=vol1&timeout=500&pool=4");
        assertEquals(RedisUrl.Mode.STANDALONE, u.mode());
        assertFalse(u.tls());
        assertEquals(List.of(new HostAndPort("10.1.2.3", 6390)), u.nodes());
        assertNull(u.user());
        assertEquals("s3cret", u.password());
        assertEquals(4, u.db());
        assertEquals("{vol1}", u.prefix());
        assertEquals(500, u.timeoutMs());
        assertEquals(4, u.poolSize());
        assertEquals("10.1.2.3:6390", u.describe());
    }

    @Test
    void defaultsAndUserPasswordForms() throws Exception {
        RedisUrl u = parse("rediss://alice:p%40ss@cache.example");
        assertTrue(u.tls());
        assertEquals(new HostAndPort("cache.example", 6379), u.nodes().get(0));
        assertEquals("alice", u.user());
        assertEquals("p@ss", u.password());
        assertEquals(0, u.db());
        assertEquals("", u.prefix());
        assertEquals("secret", parse("redis://secret@h/1").password());
        assertEquals(new HostAndPort("::1", 7000), parse("redis://[::1]:7000/0").nodes().get(0));
    }

    @Test
    void sentinelNamesItsMasterAndSentinels() throws Exception {
        RedisUrl u = parse("redis-sentinel://pw@h1:26380,h2,10.0.0.3:26381/mymaster/2?sentinelPassword=sp");
        assertEquals(RedisUrl.Mode.SENTINEL, u.mode());
        assertEquals(List.of(new HostAndPort("h1", 26380), new HostAndPort("h2", 26379), new HostAndPort("10.0.0.3", 26381)),
                u.nodes());
        assertEquals("mymaster", u.master());
        assertEquals(2, u.db());
        assertEquals("pw", u.password());
        assertEquals("sp", u.sentinelPassword());
    }

    @Test
    void clusterUsesTheVolumeAsHashTag() throws Exception {
        RedisUrl u = parse("redis-cluster://h1:7000,h2:7001/projects");
        assertEquals(RedisUrl.Mode.CLUSTER, u.mode());
        assertEquals("{projects}", u.prefix());
        assertEquals(2, u.nodes().size());
        assertEquals("{hangar}", parse("redis-cluster://h1:7000").prefix());
    }

    @Test
    void badUrlsFailWithEinvalAndHideTheirPassword() {
        for (String bad : List.of("redis://h1,h2/0", "redis://h:99999/0", "redis://h/x", "redis-sentinel://h1/",
                "redis-cluster://h1/a/b", "redis://h/0?prefix=a%7Bb", "redis://h/0?timeout=-1", "memcached://h",
                "redis-cluster://h/v?prefix=p")) {
            FsException e = assertThrows(FsException.class, () -> parse(bad), bad);
            assertEquals(Errno.EINVAL, e.errno(), bad);
        }
        FsException e = assertThrows(FsException.class, () -> parse("redis://u:hunter2@h/x?sentinelPassword=zz"));
        assertFalse(e.getMessage().contains("hunter2") || e.getMessage().contains("zz"), e.getMessage());
    }
}
