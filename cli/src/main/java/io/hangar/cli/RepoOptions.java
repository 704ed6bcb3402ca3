package io.hangar.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * Where the model repository is and who calls it, shared by the repository commands (a picocli mixin):
 * {@code --server} (else $HANGAR_SERVER, else http://127.0.0.1:9000) and {@code --token} (else $HANGAR_TOKEN,
 * else a line {@code token=…} in ~/.hangar/credentials).
 */
final class RepoOptions {
    static final String DEFAULT_SERVER = "http://127.0.0.1:9000";

    @Option(names = "--server", paramLabel = "URL",
            description = "The runtime's S3 gateway (default $HANGAR_SERVER, else " + DEFAULT_SERVER + ")")
    String server;
    @Option(names = "--token", paramLabel = "TOKEN",
            description = "API token hgr_… (default $HANGAR_TOKEN, else token= in ~/.hangar/credentials)")
    String token;

    /** The server's base URL without a trailing slash. */
    String server(Map<String, String> env) {
        String s = server != null ? server : env.getOrDefault("HANGAR_SERVER", "");
        s = s.isBlank() ? DEFAULT_SERVER : s.strip();
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        if (!s.startsWith("http://") && !s.startsWith("https://")) {
            throw CliException.usage("--server " + s + ": expected http://host:port or https://host:port");
        }
        return s;
    }

    /** The token: option, environment, credentials file; a usage error when there is none. */
    String token(Map<String, String> env, Path home) {
        if (token != null && !token.isBlank()) {
            return token.strip();
        }
        String t = env.get("HANGAR_TOKEN");
        if (t != null && !t.isBlank()) {
            return t.strip();
        }
        Path file = home.resolve(".hangar").resolve("credentials");
        t = credentialsToken(file);
        if (t == null) {
            throw CliException.usage("no API token: give --token, set HANGAR_TOKEN, or put a line token=hgr_… in "
                    + file);
        }
        return t;
    }

    /**
     * The value of the first {@code token=} line of a credentials file (blank lines and lines starting with
     * '#' skipped, spaces around key and value ignored); null when the file or the line is absent.
     */
    static String credentialsToken(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw Errors.local(e, file);
        }
        for (String line : text.lines().toList()) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            int eq = l.indexOf('=');
            if (eq > 0 && l.substring(0, eq).strip().equals("token")) {
                String v = l.substring(eq + 1).strip();
                if (v.length() >= 2 && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'"))) {
                    v = v.substring(1, v.length() - 1);
                }
                return v.isEmpty() ? null : v;
            }
        }
        return null;
    }
}
