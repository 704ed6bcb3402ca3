package io.hangar.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line end to end on the embedded engines (SQLite metadata, local-directory chunks), in this
 * JVM: argument handling, the exit code of each kind of failure, one line on stderr, and copies.
 */
class MainTest {
    @TempDir
    Path dir;
    String meta;
    String storage;

    @BeforeEach
    void urls() {
        meta = "sqlite://" + dir.resolve("meta.db");
        storage = "file://" + dir.resolve("chunks");
    }

    private CliRun format(String... extra) {
        String[] args = Stream.concat(Stream.of("format", meta, "vol", "--storage", storage), Stream.of(extra))
                .toArray(String[]::new);
        CliRun r = CliRun.of(args);
        assertEquals(0, r.exit(), r.stderr());
        return r;
    }

    private static void assertFails(CliRun r, int code, String expected) {
        assertEquals(code, r.exit(), r.stderr());
        List<String> lines = r.errLines();
        assertEquals(1, lines.size(), "one line on stderr, no stack trace: " + r.stderr());
        assertTrue(lines.get(0).contains(expected), lines.get(0));
    }

    @Test
    void noCommandIsAUsageError() {
        assertEquals(ExitCodes.USAGE, CliRun.of().exit());
    }

    @Test
    void missingArgumentsAreAUsageErrorWithTheSynopsis() {
        assertFails(CliRun.of("put", "onlyone"), ExitCodes.USAGE, "hangar put: missing arguments; usage: hangar put");
    }

    @Test
    void unknownOptionIsAUsageError() {
        assertFails(CliRun.of("ls", "--frobnicate", meta, "/"), ExitCodes.USAGE, "--frobnicate");
    }

    @Test
    void volumeFromTheEnvironmentOrAUsageError() {
        format();
        assertFails(CliRun.of("ls", "/"), ExitCodes.USAGE, "HANGAR_META is not set");
        CliRun r = CliRun.of(Map.of("HANGAR_META", meta), "mkdir", "/viaenv");
        assertEquals(0, r.exit(), r.stderr());
        assertEquals("viaenv", CliRun.of("ls", meta, "/").out().strip());
    }

    @Test
    void formatAndStatusShowTheSettings() {
        String formatted = format("--block-size", "1M", "--capacity", "1G").out();
        assertTrue(formatted.contains("block size: 1 MiB"), formatted);
        CliRun status = CliRun.of("status", meta);
        assertEquals(0, status.exit(), status.stderr());
        assertTrue(status.out().contains("name:       vol"), status.out());
        assertTrue(status.out().contains("capacity:   1 GiB"), status.out());
        assertTrue(status.out().contains("state:      ok"), status.out());
    }

    @Test
    void unformattedVolumeIsUnknown() {
        assertFails(CliRun.of("status", meta), ExitCodes.UNKNOWN_VOLUME, "not formatted");
    }

    @Test
    void schemeWithoutEngineIsUnknownAndNoSchemeIsUsage() {
        assertFails(CliRun.of("status", "nosuch://x/y"), ExitCodes.UNKNOWN_VOLUME, "no metadata engine");
        assertFails(CliRun.of("status", "relative/path"), ExitCodes.USAGE, "no scheme");
    }

    @Test
    void unreachableMetadataServer() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        assertFails(CliRun.of("status", "redis://127.0.0.1:" + port + "/0"), ExitCodes.UNREACHABLE, "unreachable");
    }

    @Test
    void storeThatLostTheVolumeIsTheWrongStore() throws IOException {
        format();
        deleteTree(dir.resolve("chunks"));
        Files.createDirectories(dir.resolve("chunks"));
        assertFails(CliRun.of("ls", meta, "/"), ExitCodes.WRONG_STORE, "wrong store");
    }

    @Test
    void fullVolumeIsNoSpace() throws IOException {
        format("--block-size", "64K", "--capacity", "1M");
        Path big = dir.resolve("big");
        Files.write(big, new byte[3 << 20]);
        assertFails(CliRun.of("put", meta, big.toString(), "/big"), ExitCodes.NO_SPACE, "ENOSPC");
    }

    @Test
    void missingPathsAreNotFound() {
        format();
        assertFails(CliRun.of("ls", meta, "/nope"), ExitCodes.NOT_FOUND, "/nope: no such file or directory");
        assertFails(CliRun.of("get", meta, "/nope", dir.resolve("x").toString()), ExitCodes.NOT_FOUND, "/nope");
        assertFails(CliRun.of("put", meta, dir.resolve("absent").toString(), "/a"), ExitCodes.NOT_FOUND, "absent");
        assertFails(CliRun.of("mkdir", meta, "/a/b"), ExitCodes.NOT_FOUND, "use -p");
    }

    @Test
    void refusalsAreRefused() {
        format();
        assertEquals(0, CliRun.of("mkdir", "-p", meta, "/a/b").exit());
        assertFails(CliRun.of("mkdir", meta, "/a"), ExitCodes.REFUSED, "/a: exists");
        assertFails(CliRun.of("rm", meta, "/a"), ExitCodes.REFUSED, "use -r");
        assertFails(CliRun.of("cat", meta, "/a"), ExitCodes.REFUSED, "is a directory");
        assertEquals(0, CliRun.of("rm", "-r", meta, "/a").exit());
        assertEquals("", CliRun.of("ls", meta, "/").out());
    }

    @Test
    void putGetCatRoundTripAcrossBlocks() throws IOException {
        format("--block-size", "64K");
        byte[] data = new byte[(5 << 20) + 12345];
        new Random(42).nextBytes(data);
        Path local = dir.resolve("local.bin");
        Files.write(local, data);
        assertEquals(0, CliRun.of("mkdir", meta, "/d").exit());
        CliRun put = CliRun.of("put", meta, local.toString(), "/d");
        assertEquals(0, put.exit(), put.stderr());

        Path back = dir.resolve("back.bin");
        CliRun get = CliRun.of("get", meta, "/d/local.bin", back.toString());
        assertEquals(0, get.exit(), get.stderr());
        assertArrayEquals(data, Files.readAllBytes(back));
        assertArrayEquals(data, CliRun.of("cat", meta, "/d/local.bin").stdout());

        String stat = CliRun.of("stat", meta, "/d/local.bin").out();
        assertTrue(stat.contains("size:  " + data.length), stat);
        String ls = CliRun.of("ls", "-l", meta, "/d").out();
        assertTrue(ls.startsWith("-") && ls.contains(" " + data.length + " ") && ls.strip().endsWith("local.bin"), ls);

        // put replaces: a shorter file leaves nothing of the longer one behind.
        Files.write(local, new byte[] {1, 2, 3});
        assertEquals(0, CliRun.of("put", meta, local.toString(), "/d/local.bin").exit());
        assertArrayEquals(new byte[] {1, 2, 3}, CliRun.of("cat", meta, "/d/local.bin").stdout());
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
