package io.hangar.cli;

import io.hangar.fs.FsException;
import io.hangar.fs.StatFs;
import io.hangar.spi.meta.VolumeFormat;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The volume commands, shared by the command line and Gogo. VOLUME is a metadata URL on the command line
 * (default $HANGAR_META) and a served volume's name in Gogo.
 */
final class VolumeCommands {
    /** Every volume command, in the order help lists them; the one list both command trees use. */
    static final List<Class<?>> ALL = List.of(Format.class, Status.class, Put.class, Get.class, Ls.class,
            Stat.class, Cat.class, Rm.class, Mkdir.class, CheckCommands.Fsck.class, CheckCommands.Gc.class);

    private VolumeCommands() {
    }

    /** A command tree on {@code root}: the volume commands, then {@code more}, in that order in help. */
    static CommandLine commandLine(Object root, Class<?>... more) {
        CommandLine cl = new CommandLine(root);
        ALL.forEach(cl::addSubcommand);
        for (Class<?> c : more) {
            cl.addSubcommand(c);
        }
        return cl;
    }

    @Command(name = "format", mixinStandardHelpOptions = true,
            description = "Formats the metadata at VOLUME as a new volume NAME on the chunk store --storage. "
                    + "Formatting the same volume again is a no-op.")
    static final class Format implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(hideParamSyntax = true, arity = "1..2", paramLabel = "[VOLUME] NAME",
                description = "Metadata URL (e.g. sqlite:///tmp/v/meta.db; default $HANGAR_META) and volume name.")
        List<String> args = new ArrayList<>();
        @Option(names = "--storage", required = true, paramLabel = "URL",
                description = "Chunk store URL, e.g. file:///tmp/v/chunks")
        String storage;
        @Option(names = "--block-size", paramLabel = "SIZE", description = "Block size, 64K to 16M (default 4M)")
        String blockSize;
        @Option(names = "--capacity", paramLabel = "SIZE", description = "Capacity limit (default unlimited)")
        String capacity;
        @Option(names = "--inodes", paramLabel = "N", description = "Inode limit (default unlimited)")
        Long inodes;

        @Override
        public Integer call() {
            CliContext ctx = CliContext.of(spec);
            String meta = VolumeCommand.volume(ctx, args, 1);
            Map<String, String> options = new LinkedHashMap<>();
            if (blockSize != null) {
                options.put("block-size", Long.toString(Sizes.parse(blockSize)));
            }
            if (capacity != null) {
                options.put("capacity", Long.toString(Sizes.parse(capacity)));
            }
            if (inodes != null) {
                options.put("inodes", Long.toString(inodes));
            }
            VolumeFormat f = ctx.volumes().format(meta, args.get(args.size() - 1), storage, options);
            VolumeOps.printStatus(f, null, null, ctx.out());
            return ExitCodes.OK;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Shows the settings the volume was formatted with, its usage and its state; fails "
                    + "when its chunk store cannot be reached or belongs to another volume.")
    static final class Status implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(hideParamSyntax = true, arity = "0..1", paramLabel = "[VOLUME]", description = "Metadata URL or volume name.")
        List<String> args = new ArrayList<>();

        @Override
        public Integer call() {
            CliContext ctx = CliContext.of(spec);
            String ref = VolumeCommand.volume(ctx, args, 0);
            VolumeFormat f = ctx.volumes().status(ref);
            // Settings first: they help most exactly when opening fails (wrong or unreachable store).
            VolumeOps.printStatus(f, null, null, ctx.out());
            try (VolumeAccess.OpenedVolume v = ctx.volumes().open(ref)) {
                StatFs usage = v.volume().statfs();
                ctx.out().println("used:       " + Sizes.format(usage.usedBytes()) + " in " + usage.usedInodes()
                        + " inodes");
                ctx.out().println("state:      " + v.volume().state());
            } catch (FsException e) {
                throw Errors.operating(e);
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "put", mixinStandardHelpOptions = true,
            description = "Copies a local file into the volume (into PATH when it is a directory).")
    static final class Put extends VolumeCommand {
        @Parameters(hideParamSyntax = true, arity = "2..3", paramLabel = "[VOLUME] LOCAL-FILE PATH")
        List<String> args = new ArrayList<>();

        @Override
        List<String> arguments() {
            return args;
        }

        @Override
        int operands() {
            return 2;
        }

        @Override
        void run(VolumeOps ops, List<String> a, CliContext ctx) {
            ops.put(Path.of(a.get(0)), a.get(1));
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true,
            description = "Copies a file of the volume to a local file (into it when it is a directory).")
    static final class Get extends VolumeCommand {
        @Parameters(hideParamSyntax = true, arity = "2..3", paramLabel = "[VOLUME] PATH LOCAL-FILE")
        List<String> args = new ArrayList<>();

        @Override
        List<String> arguments() {
            return args;
        }

        @Override
        int operands() {
            return 2;
        }

        @Override
        void run(VolumeOps ops, List<String> a, CliContext ctx) {
            ops.get(a.get(0), Path.of(a.get(1)));
        }
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "Lists a directory.")
    static final class Ls extends VolumeCommand {
        @Option(names = "-l", description = "Long format: mode, links, owner, group, size, mtime, name.")
        boolean longFormat;
        @Parameters(hideParamSyntax = true, arity = "1..2", paramLabel = "[VOLUME] PATH")
        List<String> args = new ArrayList<>();

        @Override
        List<String> arguments() {
            return args;
        }

        @Override
        int operands() {
            return 1;
        }

        @Override
        void run(VolumeOps ops, List<String> a, CliContext ctx) {
            ops.ls(a.get(0), longFormat, ctx.out());
        }
    }

    @Command(name = "stat", mixinStandardHelpOptions = true, description = "Shows the attributes of a path.")
    static final class Stat extends VolumeCommand {
        @Parameters(hideParamSyntax = true, arity = "1..2", paramLabel = "[VOLUME] PATH")
        List<String> args = new ArrayList<>();

        @Override
        List<String> arguments() {
            return args;
        }

        @Override
        int operands() {
            return 1;
        }

        @Override
        void run(VolumeOps ops, List<String> a, CliContext ctx) {
            ops.stat(a.get(0), ctx.out());
        }
    }

    @Command(name = "cat", mixinStandardHelpOptions = true, description = "Writes a file to standard output.")
    static final class Cat extends VolumeCommand {
        @Parameters(hideParamSyntax = true, arity = "1..2", paramLabel = "[VOLUME] PATH")
        List<String> args = new ArrayList<>();

        @Override
        List<String> arguments() {
            return args;
        }

        @Override
        int operands() {
            return 1;
        }

        @Override
        void run(VolumeOps ops, List<String> a, CliContext ctx) {
            ops.cat(a.get(0), ctx.out());
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true,
            description = "Removes a file, a symlink or an empty directory.")
    static final class Rm extends VolumeCommand {
        @Option(names = {"-r", "--recursive"}, description = "Remove a directory and everything below it.")
        boolean recursive;
        @Parameters(hideParamSyntax = true, arity = "1..2", paramLabel = "[VOLUME] PATH")
        List<String> args = new ArrayList<>();

        @Override
        List<String> arguments() {
            return args;
        }

        @Override
        int operands() {
            return 1;
        }

        @Override
        void run(VolumeOps ops, List<String> a, CliContext ctx) {
            ops.rm(a.get(0), recursive);
        }
    }

    @Command(name = "mkdir", mixinStandardHelpOptions = true, description = "Creates a directory.")
    static final class Mkdir extends VolumeCommand {
        @Option(names = {"-p", "--parents"}, description = "Create missing parents; an existing directory is fine.")
        boolean parents;
        @Parameters(hideParamSyntax = true, arity = "1..2", paramLabel = "[VOLUME] PATH")
        List<String> args = new ArrayList<>();

        @Override
        List<String> arguments() {
            return args;
        }

        @Override
        int operands() {
            return 1;
        }

        @Override
        void run(VolumeOps ops, List<String> a, CliContext ctx) {
            ops.mkdir(a.get(0), parents);
        }
    }
}
