package io.hangar.meta.redis;

import static io.hangar.spi.meta.MetadataEngine.MAX_FILE_SIZE;
import static io.hangar.spi.meta.MetadataEngine.ROOT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.fs.FileType;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.Slice;
import io.hangar.spi.meta.SliceRef;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import io.hangar.testing.RedisServer;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/**
 * The work of truncate, clone, copyRange, unlink and release follows the data a file holds, not its length (the SPI's
 * rule, kept by the per-file chunk index {@code C<ino>}). Asserted without clocks: the server's own count of
 * the commands it ran, scripts' commands included ({@code INFO commandstats}), is the same for a sparse file
 * of 1 GiB and one of {@link MetadataEngine#MAX_FILE_SIZE}, and small. An engine that walked every chunk index
 * up to the length would run a few hundred commands for the first and 2^28 for the second.
 */
class RedisBoundedWorkTest extends RedisTestSupport {
    /** Commands of the connection machinery, not of the operations. */
    private static final Set<String> NOT_WORK = Set.of("config|resetstat", "info", "client|setinfo", "hello", "ping",
            "auth", "select");

    /** What the server ran for one life of a sparse file of {@code length} bytes holding two chunks. */
    private Map<String, Long> commandsFor(long length) throws Exception {
        String prefix = newPrefix();
        try (MetadataEngine m = open(prefix); RedisClient raw = RedisClient.create("127.0.0.1", server.port())) {
            m.format(format("bounded"));
            int cs = m.load().orElseThrow().chunkSize();
            long f = m.mknod(ROOT, "f", FileType.FILE, 0644, 0, 0, 0, null).inode();
            Slice first = new Slice(m.newSliceIds(1), 100, 0, 100, 0);
            m.writeSlice(f, 0, first, 1L);
            int lastChunk = (int) (length / cs) - 1;
            Slice last = new Slice(m.newSliceIds(1), 4096, 0, 4096, cs - 4096);

            assertEquals("+OK", RedisServer.command(server.port(), "CONFIG RESETSTAT"));
            m.truncate(f, length); // grow
            m.writeSlice(f, lastChunk, last, 2L); // a second chunk at the far end
            m.truncate(f, 100); // shrink: drops the far chunk, covers the cut part of the first
            m.truncate(f, length);
            m.writeSlice(f, lastChunk, last, 3L);
            long copy = m.clone(f, ROOT, "copy", 0, 0).inode();
            m.copyRange(f, 0, copy, 0, length, 4L); // the whole length over the clone: holes, then the records
            m.unlink(ROOT, "f");
            long session = m.openSession("holds the copy");
            m.open(session, copy);
            m.unlink(ROOT, "copy"); // parked while open
            m.release(session, copy); // reclaimed: both of its chunks
            m.closeSession(session);
            Map<String, Long> calls = commandStats(raw);

            assertEquals(Set.of(new SliceRef(first.id(), first.size()), new SliceRef(last.id(), last.size())),
                    Set.copyOf(m.pendingSliceDeletes(10)), "the file's slices went with it");
            assertEquals(1, m.statfs().usedInodes());
            return calls;
        }
    }

    /** Calls per command since the last reset, from {@code INFO commandstats}. */
    private static Map<String, Long> commandStats(RedisClient raw) {
        Map<String, Long> calls = new TreeMap<>();
        for (String line : raw.info("commandstats").split("\r?\n")) {
            if (!line.startsWith("cmdstat_")) {
                continue;
            }
            String name = line.substring("cmdstat_".length(), line.indexOf(':'));
            String field = line.substring(line.indexOf("calls=") + "calls=".length());
            long n = Long.parseLong(field.substring(0, field.indexOf(',')));
            if (!NOT_WORK.contains(name)) {
                calls.put(name, n);
            }
        }
        return calls;
    }

    @Test
    void truncateCloneCopyRangeUnlinkAndReleaseCostWhatTheFileHoldsNotItsLength() throws Exception {
        commandsFor(1L << 30); // loads the scripts, so that both runs below call them alike (EVALSHA)
        Map<String, Long> oneGib = commandsFor(1L << 30);
        // A handful of calls per chunk held, whatever the length: 1 GiB is 256 chunks of 4 MiB.
        for (String walk : List.of("lrange", "del", "zrem", "exists", "rpush")) {
            long n = oneGib.getOrDefault(walk, 0L);
            assertTrue(n <= 16, walk + " ran " + n + " times: " + oneGib);
        }
        long total = oneGib.values().stream().mapToLong(Long::longValue).sum();
        assertTrue(total <= 250, total + " commands: " + oneGib);
        Map<String, Long> largest = commandsFor(MAX_FILE_SIZE);
        assertEquals(oneGib, largest, "the commands for 1 GiB and for the largest file");
    }
}
