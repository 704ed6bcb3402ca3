package io.hangar.tck.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.spi.meta.MetaProblem;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.Slice;
import io.hangar.spi.meta.StoredSlice;
import io.hangar.spi.meta.VolumeFormat;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * kill -9 of a client in the middle of a mixed workload ({@link CrashWorkload}, in a JVM of its own), for
 * every engine: afterwards, on a fresh client, every file holds exactly the state the engine had
 * acknowledged for it (only the names of the call in flight may hold either state), the dead client's
 * session is cleaned up and the files it held open after their last unlink are reclaimed, the engine's
 * check finds nothing, and every slice ever committed is either referenced by exactly its records or
 * waiting for deletion: none is lost, none is kept alive by mistake.
 */
public abstract class MetaCrashTck {
    /** A URL of a fresh, empty, unformatted backend for one round; each call gives another one. */
    protected abstract String freshBackendUrl() throws Exception;

    /** An engine on {@code url}, as a restarted process would open it. */
    protected abstract MetadataEngine open(String url) throws Exception;

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4})
    void aClientKilledMidWorkloadLosesNothingAcknowledgedAndLeavesConsistentReferences(long seed) throws Exception {
        String url = freshBackendUrl();
        VolumeFormat format = new VolumeFormat("crash", UUID.randomUUID().toString(), "file:///tmp/hangar-crash-store",
                VolumeFormat.DEFAULT_BLOCK_SIZE, VolumeFormat.DEFAULT_CHUNK_SIZE, 0, 0, System.currentTimeMillis());
        try (MetadataEngine m = open(url)) {
            m.format(format);
        }
        // Kill after a seeded number of completed calls, somewhere in the middle of the next one.
        int killAfter = 150 + new Random(seed).nextInt(400);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // The workload writes to a file: whatever it printed before the kill is still there afterwards.
        Path log = Files.createTempFile("hangar-crash-", ".log");
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                CrashWorkload.class.getName(), url, Long.toString(seed)).redirectOutput(log.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5); // hang guard, not a measurement
            while (completedCalls(log) < killAfter && child.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
        } finally {
            child.destroyForcibly(); // SIGKILL: no close, no shutdown hook, mid-call
            assertTrue(child.waitFor(60, TimeUnit.SECONDS));
        }
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        Files.delete(log);
        Journal j = new Journal();
        for (int i = 0; i < lines.size(); i++) {
            // A line cut by the kill can only be the last one.
            if (i < lines.size() - 1 || Journal.whole(lines.get(i))) {
                j.read(lines.get(i));
            }
        }
        assertTrue(j.done >= killAfter, "the workload stopped early");
        Map<String, String> acknowledged = j.acknowledged;
        Set<String> inFlight = j.inFlight;
        List<Long> committed = j.committed;

        try (MetadataEngine m = open(url)) {
            int cs = format.chunkSize();
            for (Map.Entry<String, String> e : acknowledged.entrySet()) {
                String name = e.getKey();
                if (inFlight.contains(name)) {
                    continue;
                }
                String expected = e.getValue();
                long ino = CrashWorkload.inode(m, name);
                String actual = ino == 0 ? name + " -" : CrashWorkload.state(m, name, ino, cs);
                assertEquals(expected, actual, "acknowledged state of " + name + " (seed " + seed + ")");
            }
            // The dead client's session goes stale; cleaning it reclaims what it held open after unlink.
            assertTrue(m.cleanStaleSessions(0) >= 1, "the killed client's session");
            List<MetaProblem> problems = new ArrayList<>();
            m.check(false, problems::add);
            assertEquals(List.of(), problems, "the engine's check after the crash (seed " + seed + ")");

            Map<Long, Long> records = new HashMap<>();
            for (int i = 0; i < CrashWorkload.FILES; i++) {
                long ino = CrashWorkload.inode(m, "f" + i);
                for (int c = 0; ino != 0 && c < CrashWorkload.CHUNK_SPAN; c++) {
                    for (Slice s : m.readChunk(ino, c)) {
                        if (!s.isHole()) {
                            records.merge(s.id(), 1L, Long::sum);
                        }
                    }
                }
            }
            Map<Long, Long> stored = new HashMap<>();
            long after = 0;
            for (List<StoredSlice> page; !(page = m.scanSlices(after, 500)).isEmpty(); after = page.get(page.size() - 1).id()) {
                page.forEach(s -> stored.put(s.id(), s.refs()));
            }
            for (Map.Entry<Long, Long> r : records.entrySet()) {
                assertEquals(r.getValue(), stored.get(r.getKey()), "references of slice " + r.getKey());
            }
            // Every committed slice is still known: referenced, or queued for its blocks to be deleted.
            assertTrue(committed.size() > 10, "the workload wrote slices");
            for (long id : committed) {
                assertTrue(stored.containsKey(id), "slice " + id + " was committed and is neither referenced nor pending");
                if (!records.containsKey(id)) {
                    assertEquals(0L, stored.get(id), "slice " + id + " has no records but references");
                }
            }
            assertEquals(m.pendingSliceDeletes(100_000).size(), stored.values().stream().filter(n -> n == 0).count());
        }
    }

    private static long completedCalls(Path log) throws java.io.IOException {
        try (java.util.stream.Stream<String> lines = Files.lines(log, StandardCharsets.ISO_8859_1)) {
            return lines.filter("."::equals).count();
        }
    }


    /** The workload's output, read line by line: what it acknowledged, and what was in flight at the end. */
    private static final class Journal {
        final Map<String, String> acknowledged = new TreeMap<>();
        final Map<String, String> current = new HashMap<>();
        final Set<String> inFlight = new HashSet<>();
        final List<Long> committed = new ArrayList<>();
        final List<Long> written = new ArrayList<>();
        int done;

        static boolean whole(String line) {
            return line.equals(".") || line.matches("\\? f\\d+ f\\d+") || line.matches("\\+\\d+")
                    || line.matches("f\\d+ (-|\\d+ \\d+( \\d:[0-9a-f]*)+)");
        }

        void read(String line) {
            assertTrue(whole(line), () -> "workload said: " + line);
            if (line.startsWith("? ")) {
                inFlight.clear();
                inFlight.addAll(List.of(line.substring(2).split(" ")));
            } else if (line.startsWith("+")) {
                written.add(Long.parseLong(line.substring(1)));
            } else if (line.equals(".")) {
                acknowledged.putAll(current);
                current.clear();
                committed.addAll(written);
                written.clear();
                inFlight.clear();
                done++;
            } else {
                current.put(line.substring(0, line.indexOf(' ')), line);
            }
        }
    }
}
