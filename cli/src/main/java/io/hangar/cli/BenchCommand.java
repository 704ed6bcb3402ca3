package io.hangar.cli;

import io.hangar.cli.bench.MountBench;
import io.hangar.cli.bench.VfsBench;
import io.hangar.fs.FsException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code hangar bench <meta-url>} measures through the VFS in this process; {@code hangar bench <mountpoint>}
 * through a mount. Both print ratios against {@code dd} on a local disk measured in the same run.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measures big-file and small-file throughput next to dd on the local disk.",
            "Target: a metadata URL (in-process, through the VFS) or a mountpoint (through FUSE)."})
final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "<meta-url|mountpoint>")
    String target;

    @Option(names = "--big-file-size", defaultValue = "1G", description = "Size of the big file (default 1G).")
    String bigSize;

    @Option(names = "--small-files", description = "Number of small files (default 100 in-process, 1000 on a mount).")
    Integer smallFiles;

    @Option(names = "--small-file-size", defaultValue = "128K", description = "Size of each small file.")
    String smallSize;

    @Option(names = "--threads", defaultValue = "4", description = "Threads of the parallel runs on a mount.")
    int threads;

    @Option(names = {"-o", "--option"}, description = "VFS option for the in-process run, e.g. -o read-ahead=128M "
            + "(buffer-size, cache-size, read-ahead, upload-threads, read-threads).")
    Map<String, String> options = new java.util.HashMap<>();

    @Option(names = "--dd-dir", description = "Where dd measures the local disk (default: next to the store, "
            + "or the system temp directory).")
    Path ddDir;

    @Override
    public Integer call() throws IOException, InterruptedException {
        CliContext ctx = CliContext.of(spec);
        long big = Sizes.parse(bigSize);
        int small = (int) Sizes.parse(smallSize);
        if (big < (1 << 20) || threads < 1) {
            throw CliException.usage("--big-file-size must be at least 1M and --threads at least 1");
        }
        if (target.contains("://")) {
            try {
                new VfsBench(target, big, smallFiles == null ? 100 : smallFiles, small, ddDir, options, ctx.out())
                        .run();
            } catch (FsException e) {
                throw Errors.operating(e);
            }
        } else {
            Path mount = Path.of(target);
            if (!Files.isDirectory(mount)) {
                throw CliException.usage(target + " is neither a metadata URL nor a directory");
            }
            Path dd = ddDir != null ? ddDir : Path.of(System.getProperty("java.io.tmpdir"), "hangar-bench-dd");
            new MountBench(mount, big, threads, smallFiles == null ? 1000 : smallFiles, small, dd, ctx.out()).run();
        }
        return ExitCodes.OK;
    }
}
