package io.hangar.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The progress bars of put, get and bench: none when not interactive, the library's bar otherwise. */
class ProgressTest {
    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(captured, true, StandardCharsets.UTF_8);

    @Test
    void quietWhenNotInteractive() {
        try (Progress p = Progress.bytes(false, out, "put big", 64L << 20, 100)) {
            p.step(32L << 20);
            p.step(32L << 20);
        }
        try (Progress p = Progress.count(false, out, "small files write", 10, "files", 100)) {
            p.step(10);
        }
        assertEquals("", captured.toString(StandardCharsets.UTF_8));
    }

    @Test
    void barShowsTotalAndUnitWhenInteractive() {
        try (Progress p = Progress.bytes(true, out, "put big", 64L << 20, 120)) {
            p.step(16L << 20);
            p.step(48L << 20);
        }
        String bar = captured.toString(StandardCharsets.UTF_8);
        assertTrue(bar.contains("put big"), bar);
        assertTrue(bar.contains("64/64 MiB"), bar);
        assertTrue(bar.contains("MiB/s"), bar);
        assertTrue(bar.endsWith(System.lineSeparator()), "the bar's line is ended on close: " + bar);
        assertEquals(1, bar.chars().filter(c -> c == '\n').count(), "one line, ended once: " + bar);
    }

    @Test
    void countsInTheirOwnUnit() {
        try (Progress p = Progress.count(true, out, "small files read", 7, "files", 120)) {
            for (int i = 0; i < 7; i++) {
                p.step(1);
            }
        }
        String bar = captured.toString(StandardCharsets.UTF_8);
        assertTrue(bar.contains("7/7 files"), bar);
    }

    @Test
    void notInteractiveUnderTheTestRunner() {
        // Surefire's forked JVM has no console: the commands' bars stay off and their output is unchanged.
        assertFalse(Progress.interactive());
    }
}
