package io.hangar.cli;

import io.hangar.fs.FsException;
import io.hangar.sync.SyncListener;
import io.hangar.sync.SyncReport;
import io.hangar.sync.SyncSpec;
import io.hangar.sync.SyncStatus;
import io.hangar.sync.VolumeSync;
import io.hangar.vfs.standalone.Volumes;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintStream;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code hangar sync SRC DST}: copies a tree of one volume to another (separate metadata engines and stores)
 * in this process, blocks store to store, never through a mount (docs/sync.md); {@code hangar sync status DST}
 * shows the syncs recorded at a destination, the runtime's strategies' included.
 */
@Command(name = "sync", mixinStandardHelpOptions = true, subcommands = SyncCommand.Status.class,
        description = "Syncs a tree from one volume to another, incrementally: blocks copied store to store, "
                + "metadata applied per file.")
final class SyncCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Parameters(index = "0", arity = "0..1", paramLabel = "SRC-META-URL", description = "The source volume's metadata URL.")
    String source;
    @Parameters(index = "1", arity = "0..1", paramLabel = "DST-META-URL", description = "The destination volume's metadata URL.")
    String destination;
    @Option(names = "--path", paramLabel = "PATH", defaultValue = "/",
            description = "The tree to sync, the same path at both ends (default /).")
    String path;
    @Option(names = "--dry-run", description = "Report what would be copied; change nothing.")
    boolean dryRun;
    @Option(names = "--delete", description = "Remove at the destination what an earlier sync put there and the "
            + "source no longer has (never what sync did not write, never frozen trees).")
    boolean delete;
    @Option(names = "--bwlimit", paramLabel = "SIZE", defaultValue = "0",
            description = "Block bytes copied per second at most, such as 100M (default 0: no limit).")
    String bwlimit;
    @Option(names = "--threads", paramLabel = "N", defaultValue = "8",
            description = "Block copies in flight (1-256, default 8; each holds one block in memory).")
    int threads;
    @Option(names = "--warm-group", paramLabel = "GROUP",
            description = "Warm every synced file into this cache group of the destination as soon as it is "
                    + "applied (the group's members that own blocks fetch them).")
    String warmGroup;
    @Option(names = "--name", paramLabel = "NAME", defaultValue = "cli",
            description = "Who syncs, as sync status shows it (default cli).")
    String name;

    @Override
    public Integer call() {
        CliContext ctx = CliContext.of(spec);
        PrintStream out = ctx.out();
        if (source == null || destination == null) {
            throw CliException.usage("give the source and the destination metadata URLs: hangar sync SRC DST");
        }
        long limit;
        SyncSpec s;
        try {
            limit = Sizes.parse(bwlimit);
            s = new SyncSpec(source, destination, path, name, dryRun, delete, threads, limit, warmGroup);
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage());
        }
        VolumeSync sync = Volumes.sync(new SimpleMeterRegistry());
        SyncReport r;
        try (Progress bar = Progress.bytes(dryRun ? "scanning" : "copying blocks", -1)) {
            r = sync.sync(s, new SyncListener() {
                @Override
                public void copied(long bytes) {
                    bar.step(bytes);
                }

                @Override
                public void problem(String p, String why) {
                    ctx.err().println(p + ": " + why);
                }
            });
        } catch (FsException e) {
            throw Errors.opening(e);
        }
        double secs = Math.max(1e-3, r.elapsedMs() / 1e3);
        out.printf(Locale.ROOT, "%s %d files (%s) of %d scanned, %d unchanged; %s in %d blocks copied in %.2f s "
                + "(%.0f MiB/s); %d deleted, %d records, %d conflicts, %d failed%n",
                dryRun ? "would sync" : "synced", r.copiedFiles(), Sizes.format(r.fileBytes()), r.scanned(),
                r.skipped(), Sizes.format(r.copiedBytes()), r.copiedBlocks(), secs, r.copiedBytes() / secs / (1 << 20),
                r.deleted(), r.records(), r.conflicts(), r.failed());
        if (warmGroup != null && !dryRun && r.problems().stream().noneMatch(p -> p.contains(": not warmed"))) {
            out.printf(Locale.ROOT, "warmed into cache group %s as files were applied: %s fetched by its owners "
                    + "(done %.2f s after the start)%n", warmGroup, Sizes.format(r.warmedBytes()), secs);
        }
        return r.clean() ? ExitCodes.OK : ExitCodes.SYNC_INCOMPLETE;
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Shows the syncs recorded at a destination volume: who, from where, the last run.")
    static final class Status implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(index = "0", paramLabel = "DST-META-URL", description = "The destination volume's metadata URL.")
        String destination;
        @Option(names = "--json", description = "One JSON object per sync.")
        boolean json;

        @Override
        public Integer call() {
            CliContext ctx = CliContext.of(spec);
            List<SyncStatus> all;
            try {
                all = Volumes.sync(new SimpleMeterRegistry()).status(destination);
            } catch (FsException e) {
                throw Errors.opening(e);
            }
            if (all.isEmpty()) {
                ctx.out().println("no sync has run into " + destination);
            }
            for (SyncStatus st : all) {
                if (json) {
                    ctx.out().println(Json.write(st));
                    continue;
                }
                ctx.out().printf(Locale.ROOT, "%s from %s: %s, started %s%s; %d scanned, %d copied (%s), %d "
                        + "unchanged, %d conflicts, %d failed%s%n", st.name(), st.source(), st.state(),
                        Instant.ofEpochMilli(st.startedMs()),
                        st.endedMs() == 0 ? "" : ", took " + (st.endedMs() - st.startedMs()) / 1000.0 + " s",
                        st.scanned(), st.copiedFiles(), Sizes.format(st.copiedBytes()), st.skipped(), st.conflicts(),
                        st.failed(), st.error().isEmpty() ? "" : "; " + st.error());
            }
            return ExitCodes.OK;
        }
    }
}
