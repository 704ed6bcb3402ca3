package io.hangar.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.vfs.Volume;
import io.hangar.vfs.VolumeService;
import io.hangar.vfs.standalone.OpenVolume;
import io.hangar.vfs.standalone.Volumes;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Gogo commands run the command line's implementation on volumes named as the runtime serves them.
 * The runtime's VolumeService is played by a map holding one volume opened on the embedded engines.
 */
class ShellCommandsTest {
    @TempDir
    Path dir;
    private OpenVolume volume;
    private ShellCommands shell;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream oldOut;
    private PrintStream oldErr;

    @BeforeEach
    void serveOneVolume() throws Exception {
        String meta = "sqlite://" + dir.resolve("meta.db");
        Volumes.format(meta, "served", "file://" + dir.resolve("chunks"), Map.of());
        volume = Volumes.open(meta, Map.of());
        shell = new ShellCommands(new VolumeService() {
            @Override
            public Optional<Volume> volume(String name) {
                return name.equals(volume.name()) ? Optional.of(volume) : Optional.empty();
            }

            @Override
            public Collection<Volume> volumes() {
                return List.of(volume);
            }
        }, dir.resolve("etc").toString());
        // Gogo gives each session its own System.out/err; the commands write there.
        oldOut = System.out;
        oldErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void close() throws Exception {
        System.setOut(oldOut);
        System.setErr(oldErr);
        volume.close();
    }

    private String takeOut() {
        String s = out.toString(StandardCharsets.UTF_8);
        out.reset();
        return s;
    }

    @Test
    void fsckAndGcRunOnTheServedVolume() throws Exception {
        Path local = dir.resolve("data.bin");
        Files.write(local, new byte[5 << 20]);
        shell.put("served", local.toString(), "/data.bin");
        shell.fsck("served");
        String fsck = takeOut();
        assertTrue(fsck.contains("fsck: clean: 1 slices, 2 blocks checked"), fsck);
        // A leaked block in the served volume's store: fsck names it, gc past a zero grace removes it.
        Path block = Files.walk(dir.resolve("chunks").resolve("served").resolve("chunks")).filter(Files::isRegularFile)
                .findFirst().orElseThrow();
        Path leak = block.resolveSibling("999_0_10");
        Files.write(leak, new byte[10]);
        shell.fsck("served");
        assertTrue(takeOut().contains("leaked block: served/chunks/0/0/999_0_10 (10 bytes"));
        shell.gc("served", "--older-than", "0s");
        String gc = takeOut();
        assertTrue(gc.contains("gc: deleted 0 blocks of 0 unreferenced slices and 1 leaked blocks"), gc);
        assertFalse(Files.exists(leak));
        assertTrue(Files.exists(block));
        shell.fsck("served", "-q");
        assertTrue(takeOut().startsWith("fsck: clean"));
    }

    @Test
    void putLsGetByVolumeName() throws Exception {
        Path local = dir.resolve("hello.txt");
        Files.writeString(local, "hello gogo\n");
        shell.mkdir("-p", "served", "/x/y");
        shell.put("served", local.toString(), "/x/y/h.txt");
        shell.ls("served", "/x/y");
        assertEquals("h.txt", takeOut().strip());
        shell.cat("served", "/x/y/h.txt");
        assertEquals("hello gogo\n", takeOut());
        Path back = dir.resolve("back.txt");
        shell.get("served", "/x/y/h.txt", back.toString());
        assertEquals("hello gogo\n", Files.readString(back));
        assertEquals("", err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void theOnlyServedVolumeIsTheDefault() {
        shell.mkdir("/solo");
        shell.ls("/");
        assertEquals("solo", takeOut().strip());
    }

    @Test
    void unknownVolumeNameIsOneLine() {
        shell.ls("other", "/");
        String e = err.toString(StandardCharsets.UTF_8);
        assertEquals(1, e.lines().count(), e);
        assertTrue(e.contains("no volume 'other' is served here (served: served)"), e);
    }

    @Test
    void statusShowsTheServedVolume() {
        shell.status("served");
        String s = takeOut();
        assertTrue(s.contains("name:       served") && s.contains("state:      ok"), s + err);
    }

    @Test
    void formatOptionsAreRefusedInTheRuntime() {
        shell.format("sqlite:///tmp/x.db", "other", "--storage", "file:///tmp/x", "--block-size", "1M");
        String e = err.toString(StandardCharsets.UTF_8);
        assertTrue(e.contains("use ./hangar format"), e);
        assertTrue(Files.notExists(dir.resolve("etc")), "no configuration was written");
    }
}
