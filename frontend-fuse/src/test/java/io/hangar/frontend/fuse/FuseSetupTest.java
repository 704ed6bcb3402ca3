package io.hangar.frontend.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hangar.frontend.fuse.setup.FuseSetup;
import io.hangar.frontend.fuse.setup.FuseSetup.Action;
import io.hangar.frontend.fuse.setup.FuseSetup.Decision;
import io.hangar.frontend.fuse.setup.FuseSetup.Facts;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** What hangar mount and hangar up do about a missing libfuse 3, on facts given to the decision (nothing uninstalled). */
class FuseSetupTest {
    private static final String INSTALL = "apt-get install -y fuse3 libfuse3-3";

    @Test
    void everythingThereIsReadyWhoeverAsks() {
        for (boolean root : new boolean[] {true, false}) {
            for (boolean apt : new boolean[] {true, false}) {
                assertEquals(new Decision(Action.READY, ""), FuseSetup.decide(new Facts(true, true, root, apt)));
            }
        }
    }

    /** Each way of missing something (the library, fusermount3, both), as {@code root}. */
    private static void decidesForEveryMissingPart(boolean root, Action action, String part) {
        for (Facts f : List.of(new Facts(false, true, root, true), new Facts(true, false, root, true),
                new Facts(false, false, root, true))) {
            Decision d = FuseSetup.decide(f);
            assertEquals(action, d.action(), f.toString());
            assertOneLineSaying(d.message(), part);
        }
    }

    @Test
    void rootOnDebianInstalls() {
        decidesForEveryMissingPart(true, Action.INSTALL, INSTALL);
        assertTrue(FuseSetup.decide(new Facts(false, true, true, true)).message().contains("libfuse3.so.3 not found"));
        assertTrue(FuseSetup.decide(new Facts(true, false, true, true)).message().contains("fusermount3 not found"));
    }

    @Test
    void withoutRootItFailsNamingTheCommandThatInstallsIt() {
        decidesForEveryMissingPart(false, Action.FAIL, "install it as root with: " + INSTALL);
        String both = FuseSetup.decide(new Facts(false, false, false, true)).message();
        assertTrue(both.contains("libfuse3.so.3 not found, fusermount3 not found"), both);
    }

    @Test
    void withoutAptItFailsSayingWhatIsMissing() {
        Decision d = FuseSetup.decide(new Facts(false, true, true, false));
        assertEquals(Action.FAIL, d.action());
        assertOneLineSaying(d.message(), "libfuse3.so.3 not found");
        assertFalse(d.message().contains("apt-get install"), "no apt-get to run here");
    }

    @Test
    void ensureInstallsOnceSaysSoAndChecksAgain() {
        Deque<Facts> probes = new ArrayDeque<>(List.of(new Facts(false, false, true, true),
                new Facts(true, true, true, true)));
        AtomicInteger installs = new AtomicInteger();
        List<String> said = new ArrayList<>();
        Optional<String> why = FuseSetup.ensure(probes::pop, () -> {
            installs.incrementAndGet();
            return Optional.empty();
        }, said::add);
        assertEquals(Optional.empty(), why);
        assertEquals(1, installs.get());
        assertEquals(1, said.size(), "one line: " + said);
        assertTrue(said.get(0).startsWith("installing libfuse 3 ("), said.get(0));
    }

    @Test
    void ensureReportsAFailedOrUselessInstallInOneLine() {
        List<String> said = new ArrayList<>();
        Optional<String> failed = FuseSetup.ensure(() -> new Facts(false, true, true, true),
                () -> Optional.of("exit 100: E: Unable to locate package libfuse3-3"), said::add);
        assertOneLineSaying(failed.orElseThrow(), INSTALL + " failed: exit 100: E: Unable to locate package");
        Optional<String> useless = FuseSetup.ensure(() -> new Facts(false, true, true, true), Optional::empty,
                said::add);
        assertOneLineSaying(useless.orElseThrow(), "still not usable (libfuse3.so.3 not found)");
    }

    @Test
    void ensureWithoutRootNeitherInstallsNorPrints() {
        List<String> said = new ArrayList<>();
        Optional<String> why = FuseSetup.ensure(() -> new Facts(false, true, false, true), () -> {
            throw new AssertionError("no install without root");
        }, said::add);
        assertOneLineSaying(why.orElseThrow(), INSTALL);
        assertTrue(said.isEmpty(), said.toString());
    }

    private static void assertOneLineSaying(String message, String part) {
        assertTrue(message.contains(part), message);
        assertFalse(message.contains("\n"), "one line: " + message);
    }
}
