package io.hangar.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.testing.ceph.CephTestCluster;
import io.hangar.testing.s3.RgwTestBuckets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line on volumes whose blocks live in Ceph (the test cluster scripts/ceph-test-cluster.sh
 * starts): format, put, get from a fresh process state, and fsck on rados:// and s3:// stores, which the
 * CLI finds on its plain class path with their libraries; a store that is not there is one line and the
 * exit code of an unreachable store.
 */
class CliStoresTest {
    @TempDir
    Path dir;

    private void roundTrip(String storage) throws Exception {
        String meta = "sqlite://" + dir.resolve("meta.db");
        CliRun f = CliRun.of("format", meta, "cv", "--storage", storage);
        assertEquals(0, f.exit(), f.stderr());
        byte[] data = new byte[9 << 20];
        new Random(3).nextBytes(data);
        Path in = Files.write(dir.resolve("in.bin"), data);
        assertEquals(0, CliRun.of("put", meta, in.toString(), "/model.bin").exit());
        Path out = dir.resolve("out.bin");
        CliRun g = CliRun.of("get", meta, "/model.bin", out.toString());
        assertEquals(0, g.exit(), g.stderr());
        assertArrayEquals(data, Files.readAllBytes(out));
        CliRun fsck = CliRun.of("fsck", "-q", meta);
        assertEquals(0, fsck.exit(), fsck.out() + fsck.stderr());
        assertTrue(fsck.out().startsWith("fsck: clean: 1 slices, 3 blocks checked"), fsck.out());
    }

    @Test
    void aVolumeOnRados() throws Exception {
        roundTrip("rados://" + CephTestCluster.get("RADOS_POOL") + "/cli-" + UUID.randomUUID() + "?conf="
                + CephTestCluster.get("CEPH_CONF") + "&user=" + CephTestCluster.get("CEPH_USER") + "&keyring="
                + CephTestCluster.get("CEPH_KEYRING"));
    }

    @Test
    void aVolumeOnS3() throws Exception {
        roundTrip("s3://" + RgwTestBuckets.newBucket("cli") + "/v?endpoint=" + CephTestCluster.get("RGW_ENDPOINT")
                + "&region=" + CephTestCluster.get("S3_REGION") + "&path-style=true&profile=" + RgwTestBuckets.PROFILE
                + "&credentials-file=" + RgwTestBuckets.credentialsFile());
    }

    @Test
    void aMissingPoolIsOneLine() throws Exception {
        String meta = "sqlite://" + dir.resolve("meta.db");
        CliRun f = CliRun.of("format", meta, "cv", "--storage", "rados://no-such-pool-" + UUID.randomUUID()
                .toString().substring(0, 8) + "?conf=" + CephTestCluster.get("CEPH_CONF") + "&user="
                + CephTestCluster.get("CEPH_USER") + "&keyring=" + CephTestCluster.get("CEPH_KEYRING"));
        assertEquals(ExitCodes.UNREACHABLE, f.exit(), f.stderr());
        assertEquals(1, f.errLines().size(), f.stderr());
        assertTrue(f.stderr().contains("pool"), f.stderr());
    }

    @Test
    void objbenchMeasuresEveryOperationAndLeavesNothingBehind() throws Exception {
        String pool = CephTestCluster.get("RADOS_POOL");
        String ns = "objbench-" + UUID.randomUUID();
        String url = "rados://" + pool + "/" + ns + "?conf=" + CephTestCluster.get("CEPH_CONF") + "&user="
                + CephTestCluster.get("CEPH_USER") + "&keyring=" + CephTestCluster.get("CEPH_KEYRING");
        CliRun r = CliRun.of("objbench", url, "--big-objects", "4", "--big-object-size", "1M", "--small-objects", "8",
                "-t", "2");
        assertEquals(0, r.exit(), r.stderr());
        java.util.List<String> rows = r.out().lines().filter(l -> l.contains(" put ")).toList();
        assertEquals(4, rows.size(), r.out());
        assertTrue(rows.get(0).matches("\\s*4 x 1 MiB\\s+1 thr\\s+put .* \\| get .* \\| head .* \\| delete .*"), rows.get(0));
        assertTrue(rows.get(3).matches("\\s*8 x 4 KiB\\s+2 thr .*"), rows.get(3));
        // The byte[] forms too (the default measures the ByteBuffer forms with direct buffers, as a volume uses).
        CliRun heap = CliRun.of("objbench", url, "--big-objects", "2", "--big-object-size", "1M", "--small-objects", "2",
                "-t", "2", "--buffers", "heap");
        assertEquals(0, heap.exit(), heap.stderr());
        assertTrue(heap.out().contains("heap buffers"), heap.out());
        // Every object it wrote is gone again.
        try (io.hangar.spi.store.ChunkStore s = new io.hangar.store.rados.RadosChunkStoreProvider().open(
                java.net.URI.create(url))) {
            assertEquals(java.util.List.of(), s.list("", null, 10).objects());
        }
    }
}
