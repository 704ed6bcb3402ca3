package io.hangar.core.cache;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.hangar.core.layout.ChunkLayout;
import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.SessionRecord;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * This process's membership of a cache group: Hangar processes (a mount, a gateway) of one volume that share
 * their block caches. Each block has one owner among the sharing members, chosen by rendezvous hashing of the
 * block key over the members' addresses, so a join or a leave moves about 1/N of the keys. A member missing a
 * block asks its owner over HTTP; the owner serves it from its caches or reads it from the object store once
 * (its own concurrent reads of the block share that fetch). An owner that cannot be reached is left out of the
 * ring for {@link #DOWN_MS} and its blocks are read from the store: the group never fails or blocks a read.
 *
 * <p>Membership lives in the metadata engine: a member's session info names the group and its address
 * ({@link #sessionInfo}); joins and leaves are session opens and closes, liveness is the session's
 * heartbeat. Every member lists the sessions each {@link #REFRESH_MS} and keeps those of its group heard from
 * within {@link #STALE_MS}.
 *
 * <p>Peers authenticate with a token derived from the volume's uuid and the group's name: whoever can read
 * the volume's metadata can join. The port is meant for a trusted network (docs/cache.md).
 */
public final class CacheGroup implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(CacheGroup.class.getName());

    /** How often the member list is read from the metadata engine. */
    public static final long REFRESH_MS = 1_000;
    /** A member whose session was not heard from for this long is out of the ring (heartbeats are 10 s). */
    public static final long STALE_MS = 35_000;
    /** How long an owner that failed a request is left out of the ring. */
    public static final long DOWN_MS = 5_000;
    /** Sessions read per refresh: a group larger than this sees only the most recently heard. */
    public static final int MAX_SESSIONS = 4_096;
    /** Requests served at once (each holds one block); more wait in a queue of {@link #SERVER_QUEUE}. */
    public static final int SERVER_THREADS = 16;
    public static final int SERVER_QUEUE = 256;
    /** Block memory the requests being served hold at most, with 4 MiB blocks (the default). */
    public static final long SERVING_MEMORY = SERVER_THREADS * (4L << 20);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);
    /** One block request, the owner's store read included. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    private static final String BLOCKS = "/hangar/v1/blocks/";
    private static final String WARM = "/hangar/v1/warm/";
    private static final String CRC_HEADER = "X-Hangar-Crc32c";
    private static final String FETCHED_HEADER = "X-Hangar-Fetched";
    private static final Pattern GROUP_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    /** Refuses a group name that is not 1-64 letters, digits, '.', '_' or '-' starting with a letter or digit. */
    public static void checkName(String group) {
        if (group == null || !GROUP_NAME.matcher(group).matches()) {
            throw new IllegalArgumentException("cache-group: 1-64 letters, digits, '.', '_' or '-', starting with a"
                    + " letter or digit, was " + group);
        }
    }
    private static final int COPY_BUFFER = 64 << 10;
    private static final ThreadLocal<byte[]> COPY = ThreadLocal.withInitial(() -> new byte[COPY_BUFFER]);

    /** What the owner side needs from the volume. */
    public interface BlockSource {
        /**
         * Hands block {@code key} ({@code length} bytes) to {@code sink}: from this member's caches or the
         * object store, never from another member. A block the store does not have throws
         * {@link #isMissing}.
         */
        void serve(String key, int length, BlockSink sink) throws FsException, IOException;

        /** Puts block {@code key} in this member's cache; returns the bytes read from the store for it. */
        long warm(String key, int length) throws FsException;

        /** True if this member's caches hold block {@code key}. */
        boolean holds(String key);

        /** True if {@code e} says the block is not in the store. */
        boolean isMissing(FsException e);
    }

    /** Receives a block's bytes (valid during the call only). */
    public interface BlockSink {
        void send(ByteBuffer data) throws IOException;
    }

    /** A member as the ring sees it. */
    public record Member(String address, boolean sharing, long hash) {
    }

    private final String group;
    /** The volume's block keys: a peer may ask for those alone. */
    private final ChunkLayout layout;
    private final boolean sharing;
    private final String token;
    private final HttpServer server;
    private final ExecutorService serverPool;
    private final ExecutorService clientPool;
    private final HttpClient client;
    private final String address;
    private final ScheduledExecutorService refresher;
    private final Map<String, Long> downUntil = new ConcurrentHashMap<>();
    private volatile List<Member> ring = List.of();
    private volatile int members;
    private volatile BlockSource source;
    private volatile MetadataEngine meta;
    private volatile boolean closed;
    private volatile boolean toldUnsupported;

    private final AtomicLong peerHits = new AtomicLong();
    private final AtomicLong peerBytes = new AtomicLong();
    private final AtomicLong peerFailures = new AtomicLong();
    private final AtomicLong peerCorrupt = new AtomicLong();
    private final AtomicLong served = new AtomicLong();
    private final AtomicLong servedBytes = new AtomicLong();
    private final AtomicLong warmedAtOwners = new AtomicLong();

    /**
     * Joins nothing yet: binds the member's port at {@code listen} ({@code HOST[:PORT]}; empty: this host's
     * first non-loopback IPv4 address, any port) and prepares the client. {@link #start} joins.
     */
    public CacheGroup(String group, boolean sharing, String listen, ChunkLayout layout, String volumeUuid)
            throws IOException {
        checkName(group);
        this.group = group;
        this.layout = layout;
        this.sharing = sharing;
        this.token = token(volumeUuid, group);
        InetSocketAddress bind = listenAddress(listen);
        AtomicInteger n = new AtomicInteger();
        this.serverPool = new ThreadPoolExecutor(SERVER_THREADS, SERVER_THREADS, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(SERVER_QUEUE), r -> daemon(r, "hangar-group-serve-" + n.incrementAndGet()),
                // A full queue makes the accepting thread serve: it stops taking connections meanwhile.
                new ThreadPoolExecutor.CallerRunsPolicy());
        this.server = HttpServer.create(bind, 64);
        server.createContext("/hangar/v1/", this::handle);
        server.setExecutor(serverPool);
        server.start();
        this.address = hostText(bind.getAddress()) + ":" + server.getAddress().getPort();
        AtomicInteger c = new AtomicInteger();
        this.clientPool = Executors.newFixedThreadPool(4, r -> daemon(r, "hangar-group-client-" + c.incrementAndGet()));
        this.client = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).executor(clientPool)
                .version(HttpClient.Version.HTTP_1_1).build();
        this.refresher = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "hangar-group-members"));
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** The info this member's session is opened with: how the others find it. */
    public String sessionInfo() {
        return "group=" + group + " peer=" + address + " sharing=" + (sharing ? 1 : 0);
    }

    /** Starts serving {@code source} and following the group's members through {@code meta}. */
    public void start(MetadataEngine meta, BlockSource source) {
        this.meta = meta;
        this.source = source;
        refresh();
        refresher.scheduleWithFixedDelay(this::refresh, REFRESH_MS, REFRESH_MS, TimeUnit.MILLISECONDS);
    }

    public String group() {
        return group;
    }

    public String address() {
        return address;
    }

    public boolean sharing() {
        return sharing;
    }

    /** Reads the member list again (also done every {@link #REFRESH_MS}). */
    public void refresh() {
        MetadataEngine m = meta;
        if (m == null || closed) {
            return;
        }
        try {
            List<Member> found = new ArrayList<>();
            for (SessionRecord s : m.sessions(MAX_SESSIONS)) {
                if (s.sinceHeartbeatMs() > STALE_MS) {
                    continue;
                }
                Member member = parse(s.info());
                if (member != null) {
                    found.add(member);
                }
            }
            members = found.size();
            List<Member> sharingMembers = new ArrayList<>();
            for (Member x : found) {
                if (x.sharing) {
                    sharingMembers.add(x);
                }
            }
            ring = Collections.unmodifiableList(sharingMembers);
        } catch (FsException e) {
            // An engine that cannot list sessions leaves this member alone in its group: say so, once.
            boolean unsupported = e.errno() == io.hangar.fs.Errno.EOPNOTSUPP;
            LOG.log(unsupported && !toldUnsupported ? Level.WARNING : Level.FINE, "cache group " + group
                    + ": member list not read: " + e.getMessage());
            toldUnsupported |= unsupported;
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "cache group " + group + ": member list not read: " + e.getMessage());
        }
    }

    /** The member a session info describes, if it is one of this group's. */
    private Member parse(String info) {
        if (info == null) {
            return null;
        }
        String g = null;
        String peer = null;
        boolean share = true;
        for (String part : info.split(" ")) {
            if (part.startsWith("group=")) {
                g = part.substring(6);
            } else if (part.startsWith("peer=")) {
                peer = part.substring(5);
            } else if (part.equals("sharing=0")) {
                share = false;
            }
        }
        if (!group.equals(g) || peer == null || peer.isEmpty()) {
            return null;
        }
        return new Member(peer, share, hash64(peer));
    }

    /** Members of the group now (sharing or not), this one included. */
    public int members() {
        return members;
    }

    /** The sharing members that own blocks now, in no particular order. */
    public List<Member> ring() {
        return ring;
    }

    /**
     * The owner of {@code key} among {@code members} by rendezvous hashing: the member with the highest score
     * of (member, key). Null for no members.
     */
    public static Member owner(List<Member> members, String key) {
        long k = fmix64(hash64(key));
        Member best = null;
        long bestScore = 0;
        for (Member m : members) {
            long score = fmix64(m.hash ^ k);
            if (best == null || Long.compareUnsigned(score, bestScore) > 0) {
                best = m;
                bestScore = score;
            }
        }
        return best;
    }

    /** The owner of {@code key} among the members not marked down; null if none. */
    Member ownerNow(String key) {
        List<Member> live = ring;
        if (!downUntil.isEmpty()) {
            long now = System.currentTimeMillis();
            downUntil.values().removeIf(until -> until <= now);
            List<Member> up = new ArrayList<>(live.size());
            for (Member m : live) {
                if (!downUntil.containsKey(m.address)) {
                    up.add(m);
                }
            }
            live = up;
        }
        return owner(live, key);
    }

    /** True if this member owns {@code key} (it reads the block from the store itself). */
    public boolean ownsHere(String key) {
        Member o = ownerNow(key);
        return o == null || o.address.equals(address);
    }

    /**
     * Fetches block {@code key} of {@code length} bytes from its owner into {@code dst} (from its position,
     * which is not moved). False, with nothing promised about dst's bytes, if this member owns the block, the
     * owner failed or is down, or the bytes did not arrive whole and intact: the caller then reads the store.
     */
    public boolean fetch(String key, ByteBuffer dst, int length) {
        Member owner = otherOwner(key);
        return owner != null && ask(owner, false, () -> {
            HttpResponse<InputStream> r = client.send(request(owner, BLOCKS, key).GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            InputStream body = r.body();
            // The request's timeout ends with the headers: an owner that stops mid-block is cut off here.
            java.util.concurrent.ScheduledFuture<?> guard = refresher.schedule(() -> {
                try {
                    body.close();
                } catch (IOException e) {
                    // closing is all it is for
                }
            }, REQUEST_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            try (InputStream in = body) {
                if (r.statusCode() != 200) {
                    if (r.statusCode() != 404) { // 404: the block is gone (the caller's list is stale)
                        failed(owner, "answered " + r.statusCode() + " for " + key, false);
                    }
                    return false;
                }
                long expectedCrc = Long.parseLong(r.headers().firstValue(CRC_HEADER).orElse("-1"));
                CRC32C crc = new CRC32C();
                byte[] buf = COPY.get();
                ByteBuffer out = dst.duplicate();
                int got = 0;
                while (got <= length) {
                    int n = in.read(buf, 0, Math.min(buf.length, length + 1 - got));
                    if (n < 0) {
                        break;
                    }
                    if (got + n > length) {
                        got += n;
                        break; // longer than the block: refused below
                    }
                    out.put(buf, 0, n);
                    crc.update(buf, 0, n);
                    got += n;
                }
                if (got != length || crc.getValue() != expectedCrc) {
                    peerCorrupt.incrementAndGet();
                    failed(owner, "sent " + got + " bytes of " + key + " (" + length + " expected) or a bad checksum",
                            false);
                    return false;
                }
            } finally {
                guard.cancel(false);
            }
            peerHits.incrementAndGet();
            peerBytes.addAndGet(length);
            return true;
        });
    }

    /**
     * Asks the owner of {@code key} to put the block in its cache: the bytes the owner read from the store for
     * it (0: it had it), or -1 if this member owns it or the owner failed (the caller warms it here).
     */
    public long warmAtOwner(String key) {
        Member owner = otherOwner(key);
        return owner == null ? -1 : ask(owner, -1L, () -> {
            HttpResponse<Void> r = client.send(request(owner, WARM, key).POST(HttpRequest.BodyPublishers.noBody())
                    .build(), HttpResponse.BodyHandlers.discarding());
            if (r.statusCode() != 200) {
                failed(owner, "answered " + r.statusCode() + " to warm " + key, false);
                return -1L;
            }
            warmedAtOwners.incrementAndGet();
            return Long.parseLong(r.headers().firstValue(FETCHED_HEADER).orElse("0"));
        });
    }

    /** True if the owner of {@code key} (another member) says its caches hold the block; false if not, or it cannot tell. */
    public boolean heldByOwner(String key) {
        Member owner = otherOwner(key);
        return owner != null && ask(owner, false, () -> client.send(request(owner, BLOCKS, key).method("HEAD",
                HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding())
                .statusCode() == 200);
    }

    /** The owner of {@code key} if it is another member (and this one is open); null otherwise. */
    private Member otherOwner(String key) {
        Member owner = ownerNow(key);
        return owner == null || owner.address.equals(address) || closed ? null : owner;
    }

    /** One request to a peer. */
    private interface PeerCall<T> {
        T call() throws IOException, InterruptedException;
    }

    /**
     * Runs a request to {@code owner}; {@code otherwise} if it fails: an owner that cannot be reached (an I/O
     * error) is left out of the ring for a while, any failure is counted.
     */
    private <T> T ask(Member owner, T otherwise, PeerCall<T> call) {
        try {
            return call.call();
        } catch (IOException e) {
            failed(owner, e.toString(), true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            failed(owner, e.toString(), false);
        }
        return otherwise;
    }

    private HttpRequest.Builder request(Member owner, String kind, String key) {
        return HttpRequest.newBuilder(URI.create("http://" + owner.address + kind + key))
                .timeout(REQUEST_TIMEOUT).header("Authorization", "Bearer " + token);
    }

    /** Counts a failed peer request; an unreachable owner is left out of the ring for a while. */
    private void failed(Member owner, String why, boolean unreachable) {
        peerFailures.incrementAndGet();
        if (unreachable) {
            downUntil.put(owner.address, System.currentTimeMillis() + DOWN_MS);
        }
        LOG.log(Level.FINE, "cache group " + group + ": peer " + owner.address + " " + why
                + "; reading from the object store");
    }

    // ---- the owner side ----

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            String auth = x.getRequestHeaders().getFirst("Authorization");
            if (auth == null || !MessageDigest.isEqual(auth.getBytes(StandardCharsets.UTF_8),
                    ("Bearer " + token).getBytes(StandardCharsets.UTF_8))) {
                reply(x, 403, "not a member of this cache group");
                return;
            }
            String path = x.getRequestURI().getRawPath();
            boolean warm = path.startsWith(WARM);
            String key = path.startsWith(BLOCKS) ? path.substring(BLOCKS.length())
                    : warm ? path.substring(WARM.length()) : null;
            // The length is read from the key, never taken from the request.
            int length = key == null ? -1 : layout.blockLengthOf(key);
            if (length < 0) {
                reply(x, 400, "not a block key of this volume");
                return;
            }
            String method = x.getRequestMethod();
            BlockSource s = source;
            if (s == null || closed) {
                reply(x, 503, "not serving");
                return;
            }
            if (warm && method.equals("POST")) {
                long fetched;
                try {
                    fetched = s.warm(key, length);
                } catch (FsException e) {
                    reply(x, s.isMissing(e) ? 404 : 502, e.getMessage());
                    return;
                }
                x.getResponseHeaders().set(FETCHED_HEADER, Long.toString(fetched));
                x.sendResponseHeaders(200, -1);
                return;
            }
            if (!warm && method.equals("HEAD")) {
                x.sendResponseHeaders(s.holds(key) ? 200 : 404, -1);
                return;
            }
            if (warm || !method.equals("GET")) {
                reply(x, 405, "use GET or HEAD " + BLOCKS + ", or POST " + WARM);
                return;
            }
            try {
                s.serve(key, length, data -> send(x, data));
                served.incrementAndGet();
                servedBytes.addAndGet(length);
            } catch (FsException e) {
                reply(x, s.isMissing(e) ? 404 : 502, e.getMessage());
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.FINE, "cache group " + group + ": request failed: " + e);
        }
    }

    private static void send(HttpExchange x, ByteBuffer data) throws IOException {
        CRC32C crc = new CRC32C();
        crc.update(data.duplicate());
        x.getResponseHeaders().set(CRC_HEADER, Long.toString(crc.getValue()));
        x.getResponseHeaders().set("Content-Type", "application/octet-stream");
        x.sendResponseHeaders(200, data.remaining());
        byte[] buf = COPY.get();
        ByteBuffer in = data.duplicate();
        try (OutputStream out = x.getResponseBody()) {
            while (in.hasRemaining()) {
                int n = Math.min(buf.length, in.remaining());
                in.get(buf, 0, n);
                out.write(buf, 0, n);
            }
        }
    }

    private static void reply(HttpExchange x, int status, String message) throws IOException {
        byte[] body = (message == null ? "" : message).getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        x.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = x.getResponseBody()) {
                out.write(body);
            }
        }
    }

    // ---- counts ----

    public long peerHits() {
        return peerHits.get();
    }

    public long peerBytes() {
        return peerBytes.get();
    }

    public long peerFailures() {
        return peerFailures.get();
    }

    public long peerCorrupt() {
        return peerCorrupt.get();
    }

    public long served() {
        return served.get();
    }

    public long servedBytes() {
        return servedBytes.get();
    }

    public long warmedAtOwners() {
        return warmedAtOwners.get();
    }

    /** Leaves: stops serving and following. (The session's close removes it from the engine.) */
    @Override
    public void close() {
        closed = true;
        refresher.shutdownNow();
        server.stop(0);
        serverPool.shutdownNow();
        clientPool.shutdownNow();
    }

    // ---- helpers ----

    static String token(String volumeUuid, String group) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(("hangar-cache-group\0" + volumeUuid + "\0" + group).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * {@code HOST[:PORT]}, an IPv6 literal bracketed when a port follows ({@code [::1]:7070}); empty: this host's
     * first non-loopback IPv4 address and any port.
     */
    static InetSocketAddress listenAddress(String listen) throws IOException {
        String host;
        int port = 0;
        String s = listen == null ? "" : listen.trim();
        if (s.startsWith("[")) {
            int end = s.indexOf(']');
            if (end < 0) {
                throw new IllegalArgumentException("group-address: no ']' after the IPv6 address: " + s);
            }
            host = s.substring(1, end);
            String rest = s.substring(end + 1);
            if (rest.startsWith(":")) {
                port = port(rest.substring(1), s);
            } else if (!rest.isEmpty()) {
                throw new IllegalArgumentException("group-address: not [IPv6]:PORT: " + s);
            }
        } else {
            int colon = s.lastIndexOf(':');
            if (colon >= 0 && s.indexOf(':') == colon) {
                host = s.substring(0, colon);
                port = port(s.substring(colon + 1), s);
            } else {
                host = s; // a name, an IPv4 address, or an IPv6 literal without a port
            }
        }
        if (host.isEmpty()) {
            host = hostText(defaultAddress());
        }
        InetAddress a = InetAddress.getByName(host);
        if (a.isAnyLocalAddress()) {
            throw new IllegalArgumentException("group-address: name an address the other members can reach, not "
                    + host);
        }
        return new InetSocketAddress(a, port);
    }

    private static int port(String text, String whole) {
        try {
            int port = Integer.parseInt(text);
            if (port >= 0 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException("group-address: not a port: " + whole);
    }

    private static InetAddress defaultAddress() throws SocketException {
        for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!ni.isUp() || ni.isLoopback()) {
                continue;
            }
            for (InetAddress a : Collections.list(ni.getInetAddresses())) {
                if (a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress()) {
                    return a;
                }
            }
        }
        return InetAddress.getLoopbackAddress();
    }

    private static String hostText(InetAddress a) {
        String h = a.getHostAddress();
        return h.indexOf(':') >= 0 ? "[" + h + "]" : h;
    }

    /** FNV-1a over the UTF-8 bytes, finished by {@link #fmix64}: spreads similar keys apart. */
    static long hash64(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return fmix64(h);
    }

    /** MurmurHash3's 64-bit finaliser. */
    static long fmix64(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb93fe1a85ec3L;
        k ^= k >>> 33;
        return k;
    }
}
