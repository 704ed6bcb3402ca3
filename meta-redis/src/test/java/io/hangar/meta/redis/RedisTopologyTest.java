package io.hangar.meta.redis;

import io.hangar.testing.RedisServer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.fs.Entry;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetadataEngine;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.RedisClient;

/** TLS, Sentinel failover and a three-master Redis Cluster, with real servers on loopback. */
class RedisTopologyTest {
    @TempDir
    Path tmp;

    @Test
    void tlsConnectsWithTheGivenTrustAndRefusesWithout() throws Exception {
        Path pki = tmp.resolve("pki");
        java.nio.file.Files.createDirectories(pki);
        run(pki, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", "server.key", "-out", "server.crt");
        run(pki, "keytool", "-importcert", "-noprompt", "-alias", "redis", "-file", "server.crt", "-keystore",
                "trust.p12", "-storetype", "PKCS12", "-storepass", "changeit");
        int tlsPort = RedisServer.freePort();
        try (RedisServer server = RedisServer.start(tmp.resolve("tls"), "--tls-port", Integer.toString(tlsPort),
                "--tls-cert-file", pki.resolve("server.crt").toString(), "--tls-key-file",
                pki.resolve("server.key").toString(), "--tls-ca-cert-file", pki.resolve("server.crt").toString(),
                "--tls-auth-clients", "no")) {
            String base = "rediss://127.0.0.1:" + tlsPort + "/0?prefix=tls";
            try (MetadataEngine m = new RedisMetadataEngineProvider().open(URI.create(base
                    + "&truststore=" + pki.resolve("trust.p12") + "&truststorePassword=changeit"))) {
                m.format(RedisTestSupport.format("tls"));
                m.mknod(MetadataEngine.ROOT, "f", FileType.FILE, 0644, 0, 0, 0, null);
                assertEquals(List.of(), NamespaceCheck.run(m, server.port(), "{tls}"));
            }
            FsException e = org.junit.jupiter.api.Assertions.assertThrows(FsException.class,
                    () -> new RedisMetadataEngineProvider().open(URI.create(base)));
            assertTrue(e.transientFailure() && e.getMessage().contains("unreachable"), e.getMessage());
        }
    }

    private static void run(Path dir, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", cmd) + ":\n" + out);
    }

    @Test
    void sentinelFailoverKeepsTheReplicatedNamespace() throws Exception {
        try (RedisServer master = RedisServer.start(tmp.resolve("master"));
                RedisServer replica = RedisServer.start(tmp.resolve("replica"), "--replicaof", "127.0.0.1",
                        Integer.toString(master.port()));
                RedisServer sentinel = RedisServer.sentinel(tmp.resolve("sentinel"), "vols", master.port())) {
            String url = "redis-sentinel://127.0.0.1:" + sentinel.port() + "/vols/0?prefix=s";
            try (MetadataEngine m = new RedisMetadataEngineProvider().open(URI.create(url))) {
                m.format(RedisTestSupport.format("s"));
                for (int i = 0; i < 50; i++) {
                    m.mknod(MetadataEngine.ROOT, "f" + i, FileType.FILE, 0644, 0, 0, 0, null);
                }
                // Replication is asynchronous: a failover keeps what the replica has confirmed.
                awaitReplica(master.port());
                master.kill9();
                Entry after = retry(() -> m.mknod(MetadataEngine.ROOT, "after", FileType.FILE, 0644, 0, 0, 0, null));
                assertEquals(MetadataEngine.ROOT, after.parent());
                for (int i = 0; i < 50; i++) {
                    m.lookup(MetadataEngine.ROOT, "f" + i);
                }
                assertEquals(List.of(), NamespaceCheck.run(m, replica.port(), "{s}"));
            }
        }
    }

    @Test
    void clusterKeepsEachVolumeInOneSlot() throws Exception {
        List<RedisServer> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                nodes.add(RedisServer.start(tmp.resolve("node" + i), "--cluster-enabled", "yes",
                        "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"));
            }
            List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
            for (RedisServer n : nodes) {
                create.add("127.0.0.1:" + n.port());
            }
            create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
            Process p = new ProcessBuilder(create).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, out);
            for (RedisServer n : nodes) {
                awaitClusterOk(n.port());
            }
            String seeds = "127.0.0.1:" + nodes.get(0).port() + ",127.0.0.1:" + nodes.get(1).port();
            // Volume names chosen to hash to different masters: both live side by side.
            for (String vol : List.of("alpha", "omega", "hangar")) {
                try (MetadataEngine m = new RedisMetadataEngineProvider()
                        .open(URI.create("redis-cluster://" + seeds + "/" + vol))) {
                    m.format(RedisTestSupport.format(vol));
                    long dir = m.mknod(MetadataEngine.ROOT, "d", FileType.DIRECTORY, 0755, 0, 0, 0, null).inode();
                    ConcurrentWorkload.run(m, dir, 300, vol.hashCode());
                    assertEquals(1, m.readdir(MetadataEngine.ROOT, null, 10, true).size());
                    assertEquals(List.of(), NamespaceCheck.run(m, owner(nodes, "{" + vol + "}setting"), "{" + vol + "}"));
                }
            }
        } finally {
            for (RedisServer n : nodes) {
                n.close();
            }
        }
    }

    private static void awaitReplica(int masterPort) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!":1".equals(RedisServer.command(masterPort, "WAIT 1 1000"))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the replica did not confirm the writes within 30 s");
            }
            Thread.sleep(100);
        }
    }

    private static int owner(List<RedisServer> nodes, String key) {
        for (RedisServer n : nodes) {
            try (RedisClient c = RedisClient.create("127.0.0.1", n.port())) {
                Object r = c.sendCommand(Protocol.Command.CLUSTER, "COUNTKEYSINSLOT",
                        c.sendCommand(Protocol.Command.CLUSTER, "KEYSLOT", key).toString());
                if (((Long) r) > 0) {
                    return n.port();
                }
            }
        }
        throw new AssertionError("no node holds " + key);
    }

    private static void awaitClusterOk(int port) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        try (RedisClient c = RedisClient.create("127.0.0.1", port)) {
            while (System.nanoTime() < deadline) {
                String info = new String((byte[]) c.sendCommand(Protocol.Command.CLUSTER, "INFO"), StandardCharsets.UTF_8);
                if (info.contains("cluster_state:ok")) {
                    return;
                }
                Thread.sleep(100);
            }
        }
        throw new AssertionError("cluster node " + port + " not ok after 30 s");
    }

    interface Op<T> {
        T run() throws FsException;
    }

    /** Retries a transient failure (a failover in progress) for up to 30 s. */
    private static <T> T retry(Op<T> op) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                return op.run();
            } catch (FsException e) {
                if (!e.transientFailure() || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
    }
}
