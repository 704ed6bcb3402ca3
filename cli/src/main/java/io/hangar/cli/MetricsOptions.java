package io.hangar.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * {@code --metrics HOST:PORT|off} of the commands that start a runtime of their own (mount, gateway): where
 * that runtime serves {@code /metrics} (docs/metrics.md). The web console it also serves there gets a
 * generated password; {@code off} serves no HTTP and registers no metrics registry.
 */
final class MetricsOptions {
    static final String DEFAULT = "127.0.0.1:9567";

    @Option(names = "--metrics", paramLabel = "HOST:PORT|off", defaultValue = DEFAULT,
            description = "Where this runtime serves /metrics (and the web console, with a generated password); "
                    + "on loopback a taken port is replaced by a free one; 'off' counts nothing. "
                    + "Default: ${DEFAULT-VALUE}.")
    String metrics = DEFAULT;

    /** Writes the runtime's HTTP (or metrics-off) configuration; returns the metrics URL, or null when off. */
    String writeTo(ConfigFiles etc, String command) throws IOException {
        Files.deleteIfExists(etc.dir().resolve(ConfigFiles.METRICS_PID + ".cfg"));
        Files.deleteIfExists(etc.dir().resolve(ConfigFiles.HTTP_PID + ".cfg"));
        if (metrics.equalsIgnoreCase("off")) {
            etc.write(ConfigFiles.METRICS_PID + ".cfg", "Written by 'hangar " + command + " --metrics off'.",
                    Map.of("enabled", "false"), false);
            return null;
        }
        int colon = metrics.lastIndexOf(':');
        String host = colon > 0 ? metrics.substring(0, colon) : "";
        int port;
        try {
            port = Integer.parseInt(metrics.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (host.isEmpty() || port < 0 || port > 65535) {
            throw new CliException(ExitCodes.USAGE, "--metrics wants HOST:PORT or off, not '" + metrics + "'");
        }
        if (host.equals("127.0.0.1") || host.equals("localhost")) {
            port = RuntimeLauncher.freeOr(port);
        }
        etc.writeHttp(host, port, "HTTP of this " + command + "'s runtime: /metrics and the web console.");
        if (!etc.exists(ConfigFiles.CONSOLE_PID + ".cfg")) {
            etc.writeConsoleLogin("Web console login of this " + command + "'s runtime (generated).");
        }
        return "http://" + host + ":" + port + "/metrics";
    }
}
