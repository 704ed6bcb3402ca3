package io.hangar.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A command on one volume whose first argument names the volume and may be left out: then the context's
 * default applies (HANGAR_META on the command line). Which it is follows from the number of arguments.
 */
abstract class VolumeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** All positional arguments as given. */
    abstract List<String> arguments();

    /** How many arguments follow the volume. */
    abstract int operands();

    abstract void run(VolumeOps ops, List<String> operands, CliContext ctx);

    @Override
    public Integer call() {
        CliContext ctx = CliContext.of(spec);
        List<String> all = arguments();
        String volume = volume(ctx, all, operands());
        List<String> ops = all.subList(all.size() - operands(), all.size());
        try (VolumeAccess.OpenedVolume v = ctx.volumes().open(volume)) {
            run(new VolumeOps(v.volume(), CliContext.processCaller()), ops, ctx);
        }
        return ExitCodes.OK;
    }

    /** The volume argument: the first of {@code operands + 1} arguments, or the default when one is missing. */
    static String volume(CliContext ctx, List<String> args, int operands) {
        if (args.size() == operands + 1) {
            return args.get(0);
        }
        if (args.size() == operands) {
            VolumeAccess access = ctx.volumes();
            return access.defaultVolume().orElseThrow(() -> CliException.usage("no " + access.argumentLabel()
                    + " given" + (access instanceof StandaloneVolumes ? " and " + StandaloneVolumes.ENV_META
                            + " is not set" : "")));
        }
        // picocli's arity (operands..operands+1) rules this out; kept so a wrong arity cannot go unnoticed.
        throw CliException.usage("expected " + operands + " or " + (operands + 1) + " arguments, got " + args.size());
    }
}
