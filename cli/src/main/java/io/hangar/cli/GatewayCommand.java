package io.hangar.cli;

import io.hangar.spi.meta.VolumeFormat;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code hangar gateway}: a runtime of its own that serves one volume over S3 (frontend-http), like
 * {@code hangar mount} does with FUSE. Its etc/ and home live in a private folder per listen address. The
 * credentials: {@code --credentials FILE}, or the pair in HANGAR_S3_ACCESS_KEY/HANGAR_S3_SECRET_KEY (the
 * runtime inherits the environment), or else a full-access pair generated on first start and kept in the
 * private etc/.
 */
@Command(name = "gateway", mixinStandardHelpOptions = true,
        description = "Serves a volume over the S3 API (a runtime of its own; -d returns once it listens).")
final class GatewayCommand implements Callable<Integer> {
    static final String S3_PID = "io.hangar.frontend.s3";
    static final String CREDENTIALS_FILE = "s3-credentials.properties";
    static final String ENV_ACCESS = "HANGAR_S3_ACCESS_KEY";
    static final String ENV_SECRET = "HANGAR_S3_SECRET_KEY";
    private static final long START_TIMEOUT_MS = 120_000;

    @Spec
    CommandSpec spec;
    @Parameters(hideParamSyntax = true, arity = "0..1", paramLabel = "[META-URL]",
            description = "Metadata URL (default $HANGAR_META).")
    List<String> args = new ArrayList<>();
    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:9000",
            description = "Address to listen on (default 127.0.0.1:9000).")
    String listen;
    @Option(names = "--credentials", paramLabel = "FILE",
            description = "Credentials file (key.<access key>.secret/.read/.write); default: the environment's "
                    + "pair, else one generated on first start.")
    Path credentials;
    @Mixin
    MetricsOptions metrics;
    @Option(names = "--read-only", description = "Refuse every change (AccessDenied).")
    boolean readOnly;
    @Option(names = "--runtime-dir", paramLabel = "DIR",
            description = "The gateway runtime's local folder (etc/, run/, runtime.log); default "
                    + "~/.hangar/gateways/<hash of the listen address>.")
    Path runtimeDir;
    @Mixin
    VolumeCacheOptions cache;
    @Option(names = "--domain", paramLabel = "NAME",
            description = "DNS name for virtual-hosted-style requests: <bucket>.NAME addresses a bucket "
                    + "(default: path style only).")
    String domain;
    @Mixin
    VolumeMemoryOptions memory;
    @Option(names = "--body-buffer", paramLabel = "SIZE", defaultValue = "64M",
            description = "Memory for the bodies of all requests together: uploads waiting for the volume and "
                    + "downloads waiting for their connections (default 64M); past it requests wait.")
    String bodyBuffer;
    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "512",
            description = "Connections served at once (default 512); one more is answered 503 SlowDown.")
    int maxConnections;
    @Option(names = {"-d", "--background"}, description = "Run in the background; return once listening.")
    boolean background;

    @Override
    public Integer call() throws IOException, InterruptedException {
        CliContext ctx = CliContext.of(spec);
        PrintStream out = ctx.out();
        String meta = VolumeCommand.volume(ctx, args, 0);
        int colon = listen.lastIndexOf(':');
        int port;
        try {
            port = Integer.parseInt(listen.substring(colon + 1));
        } catch (RuntimeException e) {
            throw CliException.usage("--listen must be HOST:PORT, not " + listen);
        }
        String host = colon > 0 ? listen.substring(0, colon) : "";
        if (host.isEmpty() || port < 1 || port > 65535) {
            throw CliException.usage("--listen must be HOST:PORT with a port from 1 to 65535, not " + listen);
        }
        if (reachable(host, port)) {
            throw new CliException(ExitCodes.REFUSED, listen + " is already in use");
        }
        if (!RuntimeLauncher.runtimeHas("frontend-http")) {
            throw new CliException(ExitCodes.RUNTIME_FAILED, "the runtime has no frontend-http bundle (rebuild: "
                    + "mvn -q -B install -DskipTests -pl frontend-http,cli,cnf)");
        }
        // Fails here, in one line, for an unformatted volume or a URL no engine opens.
        VolumeFormat f = ctx.volumes().status(meta);
        Path home = (runtimeDir != null ? runtimeDir : stateDir(listen)).toAbsolutePath().normalize();
        ConfigFiles etc = new ConfigFiles(home.resolve("etc"));
        String generated = writeConfig(etc, meta, f.name());
        String metricsUrl = metrics.writeTo(etc, "gateway");

        RuntimeLauncher launcher = size(new RuntimeLauncher(home, etc.dir()).property("hangar.gateway", listen),
                f.blockSize());
        launcher.writeLoggingDefaults();
        launcher.clearReadyMarkers();
        Path log = home.resolve("runtime.log");
        Process runtime = launcher.startServing(background, log);
        if (!await(runtime, launcher, f.name(), host, port, background ? START_TIMEOUT_MS : 0)) {
            if (runtime.isAlive()) {
                RuntimeLauncher.stop(runtime);
            }
            throw new CliException(ExitCodes.RUNTIME_FAILED, "the runtime did not serve S3 on " + listen
                    + (background ? "; last lines of " + log + ":\n" + RuntimeLauncher.tail(log, 20) : ""));
        }
        out.println("serving " + f.name() + " (" + meta + ") over S3 at http://" + listen
                + (background ? " (runtime pid " + runtime.pid() + ", log " + log + ")" : ""));
        if (metricsUrl != null) {
            out.println("metrics " + metricsUrl);
        }
        if (generated != null) {
            out.println("s3 keys:  " + generated + "  (generated; kept in " + etc.dir().resolve(CREDENTIALS_FILE)
                    + ")");
        } else if (credentials == null && System.getenv(ENV_ACCESS) == null) {
            out.println("s3 keys:  in " + etc.dir().resolve(CREDENTIALS_FILE));
        }
        if (background) {
            return ExitCodes.OK;
        }
        return launcher.awaitExit(runtime);
    }

    /** What the gateway may hold per connection beyond its body buffer (frontend-http's Connections). */
    static final long HEAP_PER_CONNECTION = 256 << 10;
    static final long DIRECT_PER_CONNECTION = 64 << 10;
    /** The XML bodies (Complete, DeleteObjects) being read at once: frontend-http's S3Handler.XML_BUDGET. */
    static final long XML_BODIES = 16 << 20;

    /**
     * Sizes the runtime's JVM for the volume (as a mount's) and for the gateway's bodies and connections, so
     * that the whole is bounded by the options (docs/gateway.md, "Memory").
     */
    RuntimeLauncher size(RuntimeLauncher l, int blockSize) {
        return l.memoryFor(memory.dataMemory() + cache.writerBacklogBytes() + gatewayDirectBytes(),
                cache.indexHeapBytes(blockSize) + gatewayHeapBytes());
    }

    long bodyBufferBytes() {
        long n;
        try {
            n = Sizes.parse(bodyBuffer);
        } catch (RuntimeException e) {
            throw CliException.usage("--body-buffer must be a size like 64M, not " + bodyBuffer);
        }
        if (n < (1 << 20) || n > (64L << 30)) {
            throw CliException.usage("--body-buffer must be from 1M to 64G, not " + bodyBuffer);
        }
        return n;
    }

    /**
     * Heap for request and response bodies: the body buffer (bodies are heap arrays while they wait), the XML
     * bodies being read, and what each connection may hold past the buffer (the piece that arrived as it
     * paused, a header section).
     */
    long gatewayHeapBytes() {
        return bodyBufferBytes() + XML_BODIES + maxConnections * HEAP_PER_CONNECTION;
    }

    /** Native memory for Netty: downloads copied into its direct buffers as they go out, socket buffers. */
    long gatewayDirectBytes() {
        return bodyBufferBytes() + maxConnections * DIRECT_PER_CONNECTION;
    }

    /** Waits for the volume and the listening socket; false when the runtime exits or time runs out. */
    private static boolean await(Process runtime, RuntimeLauncher launcher, String volume, String host, int port,
            long timeoutMs) throws InterruptedException {
        long start = System.nanoTime();
        while (runtime.isAlive()) {
            if (Files.exists(launcher.readyFile(volume)) && reachable(host, port)) {
                return true;
            }
            if (timeoutMs > 0 && TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) > timeoutMs) {
                return false;
            }
            Thread.sleep(200);
        }
        return false;
    }

    static boolean reachable(String host, int port) {
        String h = host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]") ? "127.0.0.1" : host;
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(h, port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Writes this gateway's etc/; returns "ACCESS SECRET" when it generated a key pair. */
    private String writeConfig(ConfigFiles etc, String meta, String name) throws IOException {
        for (String old : etc.factoryFiles(ConfigFiles.VOLUME_PID)) {
            Files.delete(etc.dir().resolve(old));
        }
        for (String old : etc.factoryFiles(S3_PID)) {
            Files.delete(etc.dir().resolve(old));
        }
        Map<String, String> volume = new LinkedHashMap<>();
        volume.put("name", name);
        volume.put("meta", meta);
        memory.dataMemory(); // a bad size fails here, in one line
        bodyBufferBytes();
        if (maxConnections < 1 || maxConnections > 1_000_000) {
            throw CliException.usage("--max-connections must be from 1 to 1000000, not " + maxConnections);
        }
        cache.check();
        memory.addTo(volume);
        cache.addTo(volume);
        etc.write(ConfigFiles.factoryFile(ConfigFiles.VOLUME_PID, name), "Written by 'hangar gateway'.", volume,
                false);
        String generated = null;
        String credFile = "";
        if (credentials != null) {
            if (!Files.isReadable(credentials)) {
                throw CliException.usage("cannot read the credentials file " + credentials);
            }
            credFile = credentials.toAbsolutePath().normalize().toString();
        } else if (System.getenv(ENV_ACCESS) == null || System.getenv(ENV_SECRET) == null) {
            if (!etc.exists(CREDENTIALS_FILE)) {
                generated = generateKeys(etc, "Written by 'hangar gateway' on first start.");
            }
            credFile = etc.dir().resolve(CREDENTIALS_FILE).toString();
        }
        Map<String, String> s3 = new LinkedHashMap<>();
        s3.put("volume", name);
        s3.put("listen", listen);
        s3.put("credentials", credFile);
        s3.put("readOnly", Boolean.toString(readOnly));
        s3.put("bufferMb", Long.toString(bodyBufferBytes() >> 20));
        s3.put("maxConnections", Integer.toString(maxConnections));
        if (domain != null) {
            s3.put("domain", domain);
        }
        etc.write(ConfigFiles.factoryFile(S3_PID, name), "Written by 'hangar gateway'.", s3, false);
        return generated;
    }

    /** A random full-access key pair in etc/s3-credentials.properties (mode 0600); returns "ACCESS SECRET". */
    static String generateKeys(ConfigFiles etc, String comment) throws IOException {
        SecureRandom r = new SecureRandom();
        StringBuilder ak = new StringBuilder("HK");
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        for (int i = 0; i < 18; i++) {
            ak.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        byte[] secret = new byte[30];
        r.nextBytes(secret);
        String sk = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        Map<String, String> p = new LinkedHashMap<>();
        p.put("key." + ak + ".secret", sk);
        p.put("key." + ak + ".read", "*");
        p.put("key." + ak + ".write", "*");
        etc.write(CREDENTIALS_FILE, comment + "\nS3 access keys: key.<access key>.secret, .read and .write "
                + "(bucket lists or *).", p, true);
        return ak + " " + sk;
    }

    /** ~/.hangar/gateways/<12 hex of SHA-256(listen address)>. */
    static Path stateDir(String listen) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(listen.getBytes(StandardCharsets.UTF_8));
            return Path.of(System.getProperty("user.home"), ".hangar", "gateways", HexFormat.of().formatHex(h, 0, 6));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
