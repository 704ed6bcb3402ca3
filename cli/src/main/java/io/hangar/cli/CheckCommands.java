package io.hangar.cli;

import io.hangar.fs.FsException;
import io.hangar.fsck.FsckReport;
import io.hangar.fsck.GcReport;
import io.hangar.fsck.VolumeCheck;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code fsck} and {@code gc}: the metadata and the chunk store agree, and what nothing references goes. */
final class CheckCommands {
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)?");

    private CheckCommands() {
    }

    @Command(name = "fsck", mixinStandardHelpOptions = true,
            description = {"Checks the volume: the metadata's own invariants (entries, link counts, parents, "
                    + "reference counts, usage counters), and that every block of every referenced slice is in "
                    + "the chunk store with the right length; lists blocks nothing references as leaked.",
                "Exit 0: clean; 10: consistent but blocks leaked (run gc); 11: problems remain."})
    static final class Fsck implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(hideParamSyntax = true, arity = "0..1", paramLabel = "[VOLUME]", description = "Metadata URL or volume name.")
        List<String> args = new ArrayList<>();
        @Option(names = "--repair", description = "Repair what can be repaired safely (counters, reference counts, "
                + "link counts, parents, entries naming missing inodes); name the rest. Run it on a quiet volume.")
        boolean repair;
        @Option(names = {"-q", "--quiet"}, description = "Print the summary line only.")
        boolean quiet;

        @Override
        public Integer call() {
            CliContext ctx = CliContext.of(spec);
            String ref = VolumeCommand.volume(ctx, args, 0);
            long start = System.nanoTime();
            FsckReport r;
            try (VolumeCheck check = ctx.volumes().check(ref)) {
                r = check.fsck(repair, line -> {
                    if (!quiet) {
                        ctx.out().println(line);
                    }
                });
            } catch (FsException e) {
                throw Errors.operating(e);
            }
            String state = r.clean() ? "clean" : r.consistent() ? "consistent, " + r.leakedBlocks() + " leaked blocks"
                    : "NOT CLEAN";
            ctx.out().printf(Locale.ROOT, "fsck: %s: %d slices, %d blocks checked, %d pending deletion; %d problems"
                    + " (%d repaired), %d missing blocks, %d bad blocks, %d leaked blocks (%s, %d younger than %s);"
                    + " %.1f s%n", state, r.slices(), r.blocks(), r.pendingSlices(), r.problems(), r.repaired(),
                    r.missingBlocks(), r.badBlocks(), r.leakedBlocks(), Sizes.format(r.leakedBytes()),
                    r.youngLeakedBlocks(), format(VolumeCheck.DEFAULT_GRACE), (System.nanoTime() - start) / 1e9);
            return r.clean() ? ExitCodes.OK : r.consistent() ? ExitCodes.LEAKED : ExitCodes.INCONSISTENT;
        }
    }

    @Command(name = "gc", mixinStandardHelpOptions = true,
            description = "Deletes the blocks of slices no file references any more (finishing pending deletions) "
                    + "and leaked blocks older than --older-than. Safe while the volume is in use.")
    static final class Gc implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(hideParamSyntax = true, arity = "0..1", paramLabel = "[VOLUME]", description = "Metadata URL or volume name.")
        List<String> args = new ArrayList<>();
        @Option(names = "--dry-run", description = "Only report what would be deleted.")
        boolean dryRun;
        @Option(names = "--older-than", paramLabel = "DURATION", description = "Grace period for leaked blocks: "
                + "younger ones may be uploads about to be committed (default 1h; e.g. 30m, 2h, 1d, 0s).")
        String olderThan;
        @Option(names = {"-q", "--quiet"}, description = "Print the summary line only.")
        boolean quiet;

        @Override
        public Integer call() {
            CliContext ctx = CliContext.of(spec);
            String ref = VolumeCommand.volume(ctx, args, 0);
            Duration grace = olderThan == null ? VolumeCheck.DEFAULT_GRACE : duration(olderThan);
            GcReport r;
            try (VolumeCheck check = ctx.volumes().check(ref)) {
                r = check.gc(dryRun, grace, line -> {
                    if (!quiet) {
                        ctx.out().println(line);
                    }
                });
            } catch (FsException e) {
                throw Errors.operating(e);
            }
            ctx.out().printf(Locale.ROOT, "gc: %s %d blocks of %d unreferenced slices and %d leaked blocks (%s);"
                    + " kept %d leaked blocks younger than %s%n", r.dryRun() ? "would delete" : "deleted",
                    r.pendingBlocks(), r.pendingSlices(), r.leakedBlocks(), Sizes.format(r.leakedBytes()), r.keptYoung(),
                    format(grace));
            return ExitCodes.OK;
        }
    }

    /** {@code 90s}, {@code 30m}, {@code 2h}, {@code 1d}, {@code 500ms}, a bare number of seconds, or ISO-8601. */
    static Duration duration(String text) {
        Matcher m = DURATION.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2);
            return switch (unit) {
                case "ms" -> Duration.ofMillis(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                case "d" -> Duration.ofDays(n);
                default -> Duration.ofSeconds(n);
            };
        }
        try {
            Duration d = Duration.parse(text.trim().toUpperCase(Locale.ROOT));
            if (!d.isNegative()) {
                return d;
            }
        } catch (DateTimeParseException e) {
            // falls through to the usage error
        }
        throw new CliException(ExitCodes.USAGE, "bad duration '" + text + "' (e.g. 30m, 2h, 1d, 0s)");
    }

    private static String format(Duration d) {
        return d.toDays() > 0 && d.toHoursPart() == 0 ? d.toDays() + "d"
                : d.toHours() > 0 && d.toMinutesPart() == 0 ? d.toHours() + "h"
                : d.toMinutes() > 0 && d.toSecondsPart() == 0 ? d.toMinutes() + "m" : d.toSeconds() + "s";
    }
}
