package io.hangar.cli;

import io.hangar.fs.Caller;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;

/**
 * What a command runs with: where volumes come from, where output goes, and who it acts as. The root
 * command object ({@link Main} on the command line, {@link ShellCommands.ShellRoot} in Gogo) provides it.
 */
interface CliContext {
    VolumeAccess volumes();

    PrintStream out();

    PrintStream err();

    /** Whether failures print their stack trace (--debug). */
    boolean debug();

    /** The environment variables commands read (HANGAR_SERVER, HANGAR_TOKEN, …). */
    default java.util.Map<String, String> env() {
        return System.getenv();
    }

    /** The user's home directory (~/.hangar/credentials): $HOME, else user.home. */
    default Path home() {
        String h = env().get("HOME");
        return Path.of(h != null && !h.isBlank() ? h : System.getProperty("user.home"));
    }

    /** The context of the command tree {@code spec} belongs to. */
    static CliContext of(CommandSpec spec) {
        return (CliContext) spec.root().userObject();
    }

    /**
     * The credentials of this process: files the CLI creates belong to the user who ran it. Read from
     * /proc so that no JDK-internal API is needed inside the framework.
     */
    static Caller processCaller() {
        try {
            Path self = Path.of("/proc/self");
            int uid = (Integer) Files.getAttribute(self, "unix:uid");
            int gid = (Integer) Files.getAttribute(self, "unix:gid");
            return new Caller(uid, gid, new int[0], ProcessHandle.current().pid());
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return Caller.ROOT;
        }
    }
}
