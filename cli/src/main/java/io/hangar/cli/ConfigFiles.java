package io.hangar.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The runtime's etc/ folder: one Configuration Admin configuration per {@code .cfg} file (Java properties
 * syntax), read by Felix FileInstall. A factory configuration is {@code <factory pid>-<name>.cfg}.
 */
final class ConfigFiles {
    static final String VOLUME_PID = "io.hangar.volume";
    static final String FUSE_PID = "io.hangar.frontend.fuse";
    static final String HTTP_PID = "org.apache.felix.http";
    static final String CONSOLE_PID = "org.apache.felix.webconsole.internal.servlet.OsgiManager";
    static final String METRICS_PID = "io.hangar.metrics";
    static final String CONSOLE_USER = "admin";

    private final Path etc;

    ConfigFiles(Path etc) {
        this.etc = etc;
    }

    Path dir() {
        return etc;
    }

    static String factoryFile(String factoryPid, String name) {
        return factoryPid + "-" + name + ".cfg";
    }

    /**
     * Writes a configuration file atomically (FileInstall must never read half of one); {@code secret}
     * files are readable by their owner only.
     */
    Path write(String fileName, String comment, Map<String, String> props, boolean secret) throws IOException {
        Files.createDirectories(etc);
        StringBuilder sb = new StringBuilder();
        for (String line : comment.split("\n")) {
            sb.append("# ").append(line).append('\n');
        }
        props.forEach((k, v) -> sb.append(k).append(" = ").append(escape(v)).append('\n'));
        Path file = etc.resolve(fileName);
        // A name FileInstall's filter (*.cfg) does not match, in the same folder so the move is atomic.
        Path tmp = etc.resolve("." + fileName + ".tmp");
        Files.writeString(tmp, sb.toString(), StandardCharsets.UTF_8);
        if (secret) {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return file;
    }

    Map<String, String> read(String fileName) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(etc.resolve(fileName), StandardCharsets.UTF_8)) {
            p.load(r);
        }
        Map<String, String> out = new LinkedHashMap<>();
        p.stringPropertyNames().forEach(k -> out.put(k, p.getProperty(k).trim()));
        return out;
    }

    boolean exists(String fileName) {
        return Files.isRegularFile(etc.resolve(fileName));
    }

    /** The factory configurations of {@code factoryPid} present, by file name. */
    /** The runtime's HTTP (the web console and /metrics) on {@code host:port}. */
    void writeHttp(String host, int port, String why) throws IOException {
        Map<String, String> http = new LinkedHashMap<>();
        http.put("org.apache.felix.http.enable", "true");
        http.put("org.apache.felix.http.host", host);
        http.put("org.osgi.service.http.port", Integer.toString(port));
        write(HTTP_PID + ".cfg", why, http, false);
    }

    /** A generated console password (file mode 0600): the console is served wherever HTTP is. */
    String writeConsoleLogin(String why) throws IOException {
        byte[] secret = new byte[18];
        new SecureRandom().nextBytes(secret);
        String password = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        write(CONSOLE_PID + ".cfg", why, Map.of("username", CONSOLE_USER, "password", password), true);
        return password;
    }

    List<String> factoryFiles(String factoryPid) throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(etc)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(etc, factoryPid + "-*.cfg")) {
            ds.forEach(p -> out.add(p.getFileName().toString()));
        }
        out.sort(null);
        return out;
    }

    private static String escape(String v) {
        return v.replace("\\", "\\\\");
    }
}
