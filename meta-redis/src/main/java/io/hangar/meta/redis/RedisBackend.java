package io.hangar.meta.redis;

import io.hangar.fs.Errno;
import io.hangar.fs.FsException;
import io.hangar.metrics.EngineMeters;
import java.io.File;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import redis.clients.jedis.ConnectionPoolConfig;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.RedisSentinelClient;
import redis.clients.jedis.SslOptions;
import redis.clients.jedis.SslVerifyMode;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.exceptions.JedisNoScriptException;

/**
 * The pooled Jedis client of one engine, the script runner, and the translation of every Jedis failure
 * into an {@link FsException}: script verdicts keep their errno, an unreachable or busy server becomes a
 * retryable EIO/EAGAIN that names the server.
 */
final class RedisBackend implements AutoCloseable {
    /** Server replies that mean "not now" rather than "broken": failover, loading, a long script. */
    private static final List<String> BUSY = List.of("LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN",
            "READONLY", "NOREPLICAS");

    @FunctionalInterface
    interface Call<T> {
        T run(UnifiedJedis jedis);
    }

    final RedisUrl url;
    private final UnifiedJedis jedis;
    private final List<byte[]> routingKey;

    private final EngineMeters meters;

    private RedisBackend(RedisUrl url, UnifiedJedis jedis, byte[] routingKey, EngineMeters meters) {
        this.meters = meters;
        this.url = url;
        this.jedis = jedis;
        this.routingKey = List.of(routingKey);
    }

    /** Connects and checks the server answers, so a bad URL fails at open and not at first use. */
    static RedisBackend connect(RedisUrl url, byte[] routingKey, EngineMeters meters) throws FsException {
        UnifiedJedis jedis;
        try {
            jedis = client(url);
        } catch (JedisException e) {
            meters.error("unreachable");
            throw unreachable(url, e);
        }
        RedisBackend b = new RedisBackend(url, jedis, routingKey, meters);
        try {
            b.call(j -> j.ping());
        } catch (FsException e) {
            b.close();
            throw e;
        }
        return b;
    }

    private static UnifiedJedis client(RedisUrl url) {
        ConnectionPoolConfig pool = new ConnectionPoolConfig();
        pool.setMaxTotal(url.poolSize());
        pool.setMaxIdle(url.poolSize());
        pool.setMinIdle(0);
        pool.setMaxWait(Duration.ofMillis(url.timeoutMs()));
        // Several engines may live in one JVM: no MBean per pool.
        pool.setJmxEnabled(false);
        DefaultJedisClientConfig.Builder cfg = DefaultJedisClientConfig.builder()
                .user(url.user()).password(url.password()).ssl(url.tls())
                .socketTimeoutMillis(url.timeoutMs()).connectionTimeoutMillis(url.connectTimeoutMs())
                .clientName("hangar-meta");
        if (url.tls() && url.truststore() != null) {
            cfg.sslOptions(tls(url));
        }
        return switch (url.mode()) {
            case STANDALONE -> RedisClient.builder().hostAndPort(url.nodes().get(0))
                    .clientConfig(cfg.database(url.db()).build()).poolConfig(pool).build();
            case SENTINEL -> RedisSentinelClient.builder().masterName(url.master())
                    .sentinels(new HashSet<>(url.nodes()))
                    .clientConfig(cfg.database(url.db()).build()).poolConfig(pool)
                    .sentinelClientConfig(DefaultJedisClientConfig.builder()
                            .user(url.sentinelUser()).password(url.sentinelPassword()).ssl(url.tls())
                            .sslOptions(url.tls() && url.truststore() != null ? tls(url) : null)
                            .socketTimeoutMillis(url.timeoutMs()).connectionTimeoutMillis(url.connectTimeoutMs())
                            .clientName("hangar-meta").build())
                    .build();
            case CLUSTER -> RedisClusterClient.builder().nodes(new HashSet<>(url.nodes()))
                    .clientConfig(cfg.build()).poolConfig(pool).build();
        };
    }

    /** TLS that trusts the URL's truststore and checks the server's name against its certificate. */
    private static SslOptions tls(RedisUrl url) {
        return SslOptions.builder()
                .truststore(new File(url.truststore()),
                        url.truststorePassword() == null ? null : url.truststorePassword().toCharArray())
                .sslVerifyMode(SslVerifyMode.FULL).build();
    }

    /** Runs a script atomically: EVALSHA, and EVAL (which caches it) when the server does not know it yet. */
    Object eval(LuaScript script, List<byte[]> args) throws FsException {
        return call(j -> {
            try {
                return j.evalsha(script.sha, routingKey, args);
            } catch (JedisNoScriptException e) {
                meters.retried(); // the server lost its script cache (restart, failover, SCRIPT FLUSH)
                return j.eval(script.text, routingKey, args);
            }
        });
    }

    <T> T call(Call<T> call) throws FsException {
        try {
            return call.run(jedis);
        } catch (JedisDataException e) {
            throw verdict(e);
        } catch (JedisException e) {
            meters.error("unreachable");
            throw unreachable(url, e);
        }
    }

    private FsException verdict(JedisDataException e) {
        String msg = e.getMessage() == null ? "" : e.getMessage();
        // Scripts fail with "<ERRNO> <why>"; Redis appends " script: <sha>, on @user_script:<line>.".
        int sp = msg.indexOf(' ');
        String code = sp < 0 ? msg : msg.substring(0, sp);
        for (Errno errno : Errno.values()) {
            if (errno.name().equals(code)) {
                String why = msg.substring(sp + 1);
                int tail = why.indexOf(" script: ");
                return new FsException(errno, tail < 0 ? why : why.substring(0, tail));
            }
        }
        if (BUSY.contains(code)) {
            meters.error("busy");
            return new FsException(Errno.EAGAIN, "redis at " + url.describe() + " cannot serve now: " + msg, e);
        }
        meters.error("server");
        return new FsException(Errno.EIO, "redis at " + url.describe() + " failed: " + msg, e);
    }

    private static FsException unreachable(RedisUrl url, JedisException e) {
        return new FsException(Errno.EIO, "redis at " + url.describe() + " unreachable: " + e.getMessage(), e);
    }

    @Override
    public void close() {
        try {
            jedis.close();
        } catch (RuntimeException e) {
            // The server may be gone already; the pool's sockets are closed either way.
        }
    }
}
