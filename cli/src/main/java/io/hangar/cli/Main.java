package io.hangar.cli;

import io.hangar.vfs.standalone.Volumes;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.MissingParameterException;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code ./hangar}: the volume commands run in this process on the plain class path (engines and stores
 * found by ServiceLoader, see {@link Volumes}); {@code up} and {@code mount} start the Felix runtime.
 * Every failure is one line on stderr and an exit code of its kind ({@link ExitCodes}).
 */
@Command(name = "hangar", mixinStandardHelpOptions = true, version = "hangar 0.1.0",
        description = "A POSIX file system over object storage.")
public final class Main implements Callable<Integer>, CliContext {
    private final PrintStream out;
    private final PrintStream err;
    private final VolumeAccess volumes;
    private final Map<String, String> env;

    @Option(names = "--debug", scope = ScopeType.INHERIT, description = "Print stack traces of failures.")
    boolean debug;

    Main(PrintStream out, PrintStream err, Map<String, String> env) {
        this.out = out;
        this.err = err;
        this.env = env;
        this.volumes = new StandaloneVolumes(env, Map.of());
    }

    public static void main(String[] args) {
        quietLogging(Arrays.asList(args).contains("--debug"));
        System.exit(run(args, System.out, System.err, System.getenv()));
    }

    /**
     * Engines, stores and Jedis (through slf4j-jdk14) log with java.util.logging: on the command line only
     * warnings, each on one line, so that a failure stays one clear line.
     */
    private static void quietLogging(boolean debug) {
        System.setProperty("java.util.logging.SimpleFormatter.format", "hangar: %4$s: %5$s%6$s%n");
        Logger root = Logger.getLogger("");
        Level level = debug ? Level.FINE : Level.WARNING;
        root.setLevel(level);
        for (Handler h : root.getHandlers()) {
            h.setLevel(level);
        }
    }

    /** Runs one command line; returns its exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
        Main root = new Main(out, err, env);
        return execute(VolumeCommands.commandLine(root, UpCommand.class, MountCommand.class, UmountCommand.class,
                GatewayCommand.class,
                BenchCommand.class, ObjbenchCommand.class, StatsCommand.class, WarmupCommand.class, SyncCommand.class,
                RepoCommands.Model.class, RepoCommands.Team.class, RepoCommands.User.class,
                RepoCommands.Whoami.class), args, root);
    }

    /** Executes with Hangar's error reporting: one line "hangar <command>: <message>", the exit code of its kind. */
    static int execute(CommandLine cl, String[] args, CliContext ctx) {
        cl.setOut(new PrintWriter(ctx.out(), true));
        cl.setErr(new PrintWriter(ctx.err(), true));
        cl.setParameterExceptionHandler((ex, a) -> {
            CommandLine sub = ex.getCommandLine();
            String name = sub.getCommandSpec().qualifiedName();
            String why = ex instanceof MissingParameterException ? "missing arguments" : ex.getMessage();
            ctx.err().println(name + ": " + why + "; usage: " + sub.getHelp().synopsis(0).strip()
                    .replaceFirst("^Usage: ", ""));
            return ExitCodes.USAGE;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            String name = cmd.getCommandSpec().qualifiedName();
            int code;
            if (ex instanceof CliException c) {
                ctx.err().println(name + ": " + c.getMessage());
                code = c.exitCode();
            } else if (ex instanceof InterruptedException) {
                ctx.err().println(name + ": interrupted");
                code = ExitCodes.INTERRUPTED;
            } else {
                ctx.err().println(name + ": " + (ex.getMessage() != null ? ex.getMessage() : ex.toString())
                        + (ctx.debug() ? "" : " (--debug shows where)"));
                code = ExitCodes.FAILURE;
            }
            if (ctx.debug()) {
                ex.printStackTrace(ctx.err());
            }
            return code;
        });
        try {
            return cl.execute(args);
        } catch (Error e) {
            // picocli passes Errors through: a class missing from the class path, out of memory.
            ctx.err().println("hangar: internal error: " + e + (ctx.debug() ? "" : " (--debug shows where)"));
            if (ctx.debug()) {
                e.printStackTrace(ctx.err());
            }
            return ExitCodes.FAILURE;
        }
    }

    @Override
    public Integer call() {
        CommandLine.usage(this, err);
        return ExitCodes.USAGE;
    }

    @Override
    public VolumeAccess volumes() {
        return volumes;
    }

    @Override
    public PrintStream out() {
        return out;
    }

    @Override
    public PrintStream err() {
        return err;
    }

    @Override
    public Map<String, String> env() {
        return env;
    }

    @Override
    public boolean debug() {
        return debug;
    }
}
