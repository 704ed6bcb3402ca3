package io.hangar.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import org.junit.jupiter.api.Test;

class StatsCommandTest {
    private static final String BEFORE = """
            # HELP hangar_fuse_written_bytes_total bytes of write requests accepted
            # TYPE hangar_fuse_written_bytes_total counter
            hangar_fuse_written_bytes_total{mountpoint="/mnt/a b",volume="v"} 1048576.0
            hangar_fuse_op_duration_seconds_count{method="write",mountpoint="/mnt/a b",volume="v"} 10
            hangar_fuse_op_duration_seconds_sum{method="write",mountpoint="/mnt/a b",volume="v"} 0.5
            hangar_fuse_op_duration_seconds_count{method="read",mountpoint="/mnt/a b",volume="v"} 0
            hangar_fuse_op_duration_seconds_sum{method="read",mountpoint="/mnt/a b",volume="v"} 0.0
            hangar_blockcache_hits_total{volume="v"} 3.0
            hangar_blockcache_miss_total{volume="v"} 1.0
            hangar_diskcache_hits_total{volume="v"} 0.0
            hangar_diskcache_miss_total{volume="v"} 1.0
            hangar_cachegroup_peer_data_bytes_total{volume="v"} 0.0
            hangar_object_request_data_bytes_total{method="PUT",volume="v"} 0.0
            hangar_object_request_data_bytes_total{method="GET",volume="v"} 0.0
            jvm_memory_used_bytes{area="heap",id="G1 Eden Space"} 1048576.0
            jvm_memory_used_bytes{area="nonheap",id="Metaspace"} 9.9E9
            weird_label{a="quote \\" and , comma"} 1
            not a sample line
            """;
    private static final String AFTER = BEFORE
            .replace("} 1048576.0\nhangar_fuse_op", "} 3145728.0\nhangar_fuse_op")
            .replace("volume=\"v\"} 10\n", "volume=\"v\"} 30\n")
            .replace("volume=\"v\"} 0.5\n", "volume=\"v\"} 1.5\n")
            .replace("hangar_blockcache_hits_total{volume=\"v\"} 3.0", "hangar_blockcache_hits_total{volume=\"v\"} 12.0")
            .replace("hangar_blockcache_miss_total{volume=\"v\"} 1.0", "hangar_blockcache_miss_total{volume=\"v\"} 4.0")
            .replace("hangar_diskcache_hits_total{volume=\"v\"} 0.0", "hangar_diskcache_hits_total{volume=\"v\"} 2.0")
            .replace("hangar_diskcache_miss_total{volume=\"v\"} 1.0", "hangar_diskcache_miss_total{volume=\"v\"} 2.0")
            .replace("{method=\"PUT\",volume=\"v\"} 0.0", "{method=\"PUT\",volume=\"v\"} 4194304.0")
            .replace("hangar_cachegroup_peer_data_bytes_total{volume=\"v\"} 0.0",
                    "hangar_cachegroup_peer_data_bytes_total{volume=\"v\"} 8388608.0");

    @Test
    void parsesSamplesWithLabelsEscapesAndSkipsWhatIsNotASample() {
        MetricSamples s = MetricSamples.parse(BEFORE);
        assertEquals(1048576.0, s.sum("hangar_fuse_written_bytes_total"));
        assertEquals(10.0, s.sum("hangar_fuse_op_duration_seconds_count", l -> "write".equals(l.get("method"))));
        assertEquals("quote \" and , comma", s.samples().stream().filter(x -> x.name().equals("weird_label"))
                .findFirst().orElseThrow().labels().get("a"));
        assertTrue(s.samples().stream().noneMatch(x -> x.name().equals("not")));
    }

    @Test
    void ratesAreTheDifferenceOverTheInterval() {
        StatsCommand.Row r = StatsCommand.Row.of(MetricSamples.parse(BEFORE), MetricSamples.parse(AFTER), 2.0);
        assertEquals(10.0, r.fuseOps(), 1e-9); // 20 requests in 2 s
        assertEquals(50.0, r.fuseLatencyMs(), 1e-9); // 1 s over 20 requests
        assertEquals(1.0, r.fuseWriteMiB(), 1e-9); // 2 MiB in 2 s
        assertEquals(75.0, r.cacheHitPct(), 1e-9); // 9 hits, 3 misses
        assertEquals(66.7, r.diskHitPct(), 0.05); // of the 3 the memory missed: 2 disk hits, 1 disk miss
        assertEquals(2.0, r.objPutMiB(), 1e-9);
        assertEquals(4.0, r.peerMiB(), 1e-9); // 8 MiB from owners in the cache group in 2 s
        assertEquals(1.0, r.heapMiB(), 1e-9); // heap pools only
        assertTrue(Double.isNaN(r.objLatencyMs()), "no requests: no latency");
        assertTrue(r.line().contains("10") && r.panel().contains("75.0 % hits"));
        assertTrue(r.panel().contains("4.0 MiB/s from the blocks' owners"));
        String noGroup = BEFORE.replace("hangar_cachegroup_peer_data_bytes_total{volume=\"v\"} 0.0\n", "");
        StatsCommand.Row alone = StatsCommand.Row.of(MetricSamples.parse(noGroup), MetricSamples.parse(noGroup), 2.0);
        assertTrue(Double.isNaN(alone.peerMiB()) && !alone.panel().contains("cache group"), "outside a group: -");
    }

    @Test
    void aUrlIsUsedAsGivenWithMetricsAddedToABareOne() {
        assertEquals(URI.create("http://127.0.0.1:9567/metrics"), StatsCommand.resolve("http://127.0.0.1:9567"));
        assertEquals(URI.create("http://h:1/x/metrics"), StatsCommand.resolve("http://h:1/x/metrics"));
    }

    @Test
    void intervalsAreDurationsWithinBounds() {
        assertEquals(1000, StatsCommand.durationMs("1s"));
        assertEquals(500, StatsCommand.durationMs("500ms"));
        assertEquals(120_000, StatsCommand.durationMs("2m"));
        assertEquals(2000, StatsCommand.durationMs("2"));
        CliException e = assertThrows(CliException.class, () -> StatsCommand.durationMs("fast"));
        assertTrue(e.getMessage().contains("--interval"));
        assertThrows(CliException.class, () -> StatsCommand.durationMs("1ms"));
    }
}
