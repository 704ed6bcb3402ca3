package io.hangar.meta.redis;

import static io.hangar.meta.redis.Codec.bytes;
import static io.hangar.meta.redis.Codec.str;
import static java.nio.charset.StandardCharsets.UTF_8;

import io.hangar.fs.FsException;
import io.hangar.metrics.EngineMeters;
import io.hangar.spi.repo.AuditEntry;
import io.hangar.spi.repo.AuditEvent;
import io.hangar.spi.repo.AuditPage;
import io.hangar.spi.repo.AuditQuery;
import io.hangar.spi.repo.RepoArguments;
import io.hangar.spi.repo.RepoCondition;
import io.hangar.spi.repo.RepoRecord;
import io.hangar.spi.repo.RepoWrite;
import io.hangar.spi.repo.RepositoryStore;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The repository store in a volume's Redis database, beside the engine's keys and under the same prefix (so
 * in the same cluster slot), in keys of their own that start with {@code R} (docs/meta-redis.md, "Repository
 * store"). A commit is one Lua script ({@code repo_commit.lua}): its conditions are checked before its first
 * write, so it lands whole or not at all. Reads are scripts too, so a record's value and version are read
 * together.
 */
final class RedisRepositoryStore implements RepositoryStore {
    private static final byte[] PUT = bytes("p");
    private static final byte[] DELETE = bytes("d");
    private static final byte[] NULL = new byte[0];

    private final RedisBackend backend;
    private final byte[] prefix;
    private final AtomicBoolean closed = new AtomicBoolean();

    private RedisRepositoryStore(RedisBackend backend, String prefix) {
        this.backend = backend;
        this.prefix = bytes(prefix);
    }

    /** Connects to the database of a {@code redis}, {@code rediss}, {@code redis-sentinel} or {@code redis-cluster} URL. */
    static RedisRepositoryStore open(URI url, EngineMeters meters) throws FsException {
        RedisUrl parsed = RedisUrl.parse(url);
        // Routed by the volume's settings key, as the engine's scripts are: the same node, the same slot.
        return new RedisRepositoryStore(RedisBackend.connect(parsed, bytes(parsed.prefix() + "setting"), meters),
                parsed.prefix());
    }

    @Override
    public Optional<RepoRecord> get(String key) throws FsException {
        byte[] k = RepoArguments.key(key);
        List<?> r = (List<?>) eval(LuaScript.REPO_GET, k);
        if (r == null) {
            return Optional.empty();
        }
        return Optional.of(new RepoRecord(key, (byte[]) r.get(0), version(r.get(1))));
    }

    @Override
    public List<RepoRecord> list(String prefix, String after, int limit) throws FsException {
        RepoArguments.prefix(prefix);
        RepoArguments.limit(limit);
        byte[] p = prefix.getBytes(UTF_8);
        // ZRANGEBYLEX compares members bytewise (memcmp): UTF-8 byte order, and a prefix is taken literally.
        byte[] min = p.length == 0 ? bytes("-") : concat(bytes("["), p);
        if (after != null) {
            byte[] a = RepoArguments.key(after);
            if (Arrays.compareUnsigned(a, p) >= 0) {
                min = concat(bytes("("), a);
            }
        }
        byte[] high = RepoArguments.prefixEnd(p);
        byte[] max = high == null ? bytes("+") : concat(bytes("("), high);
        List<?> r = (List<?>) eval(LuaScript.REPO_LIST, min, max, bytes(Integer.toString(limit)));
        List<RepoRecord> out = new ArrayList<>(r.size() / 3);
        for (int i = 0; i + 2 < r.size(); i += 3) {
            out.add(new RepoRecord(str(r.get(i)), (byte[]) r.get(i + 1), version(r.get(i + 2))));
        }
        return out;
    }


    @Override
    public boolean commit(List<RepoCondition> conditions, List<RepoWrite> writes, List<AuditEvent> audit)
            throws FsException {
        RepoArguments.commit(conditions, writes, audit);
        List<byte[]> args = new ArrayList<>(3 + 2 * conditions.size() + 3 * writes.size() + 4 * audit.size());
        args.add(bytes(Integer.toString(conditions.size())));
        args.add(bytes(Integer.toString(writes.size())));
        args.add(bytes(Integer.toString(audit.size())));
        for (RepoCondition c : conditions) {
            args.add(c.key().getBytes(UTF_8));
            args.add(bytes(Long.toString(c.version())));
        }
        for (RepoWrite w : writes) {
            args.add(w.key().getBytes(UTF_8));
            if (w.isDelete()) {
                args.add(DELETE);
            } else {
                args.add(PUT);
                args.add(w.value());
            }
        }
        for (AuditEvent e : audit) {
            args.add(optional(e.team()));
            args.add(optional(e.user()));
            args.add(optional(e.model()));
            args.add(e.detail());
        }
        return ((Long) eval(LuaScript.REPO_COMMIT, args.toArray(new byte[0][]))) == 1L;
    }

    @Override
    public AuditPage audit(AuditQuery q) throws FsException {
        RepoArguments.query(q);
        int budget = RepoArguments.scanBudget(q.limit());
        // The window one page examines: the next `budget` entries of the most selective index the query
        // names (model, then user, then team, as the SQLite store), so a rare match costs a bounded page.
        String index = q.model() != null ? "o" : q.user() != null ? "u" : q.team() != null ? "t" : "a";
        List<?> r = (List<?>) eval(LuaScript.REPO_AUDIT, bytes(index), bytes(Long.toString(q.afterSeq())),
                bytes(Integer.toString(budget)), bytes(Integer.toString(q.limit())), optional(q.team()),
                optional(q.user()), optional(q.model()), bytes(Long.toString(q.fromMs())),
                bytes(Long.toString(q.toMs())));
        long next = Long.parseLong(str(r.get(0)));
        boolean end = ((Long) r.get(1)) == 1L;
        List<AuditEntry> entries = new ArrayList<>((r.size() - 2) / 6);
        for (int i = 2; i + 5 < r.size(); i += 6) {
            entries.add(new AuditEntry(Long.parseLong(str(r.get(i))), Long.parseLong(str(r.get(i + 1))),
                    string(r.get(i + 2)), string(r.get(i + 3)), string(r.get(i + 4)), (byte[]) r.get(i + 5)));
        }
        return new AuditPage(entries, next, end);
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            backend.close();
        }
    }

    @Override
    public String toString() {
        return "redis repository at " + backend.url.describe()
                + (prefix.length == 0 ? "" : " prefix " + new String(prefix, UTF_8));
    }

    private Object eval(LuaScript script, byte[]... args) throws FsException {
        List<byte[]> argv = new ArrayList<>(args.length + 2);
        argv.add(prefix);
        argv.add(bytes(Long.toString(nowNs()))); // the prelude's clock argument; the audit uses the server's TIME
        argv.addAll(Arrays.asList(args));
        return backend.eval(script, argv);
    }

    /** An optional string as the scripts take it: empty for null, else '=' and the value. */
    private static byte[] optional(String s) {
        return s == null ? NULL : ("=" + s).getBytes(UTF_8);
    }

    private static String string(Object o) {
        return o == null ? null : new String((byte[]) o, UTF_8);
    }

    private static long version(Object o) throws FsException {
        try {
            return Long.parseLong(str(o));
        } catch (NumberFormatException e) {
            throw Codec.corrupt("repository record version '" + str(o) + "'");
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private static long nowNs() {
        Instant i = Instant.now();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }
}
