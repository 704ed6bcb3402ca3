package io.hangar.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** One run of the command line: exit code, stdout, stderr. */
record CliRun(int exit, byte[] stdout, String stderr) {
    static CliRun of(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true), new PrintStream(err, true, StandardCharsets.UTF_8), env);
        return new CliRun(code, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
    }

    static CliRun of(String... args) {
        return of(Map.of(), args);
    }

    String out() {
        return new String(stdout, StandardCharsets.UTF_8);
    }

    List<String> errLines() {
        return stderr.lines().toList();
    }
}
