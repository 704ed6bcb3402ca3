package io.hangar.meta.redis;

import static io.hangar.meta.redis.Codec.bytes;
import static io.hangar.meta.redis.Codec.str;

import io.hangar.fs.Attr;
import io.hangar.fs.DirEntry;
import io.hangar.fs.Entry;
import io.hangar.fs.Errno;
import io.hangar.fs.FileType;
import io.hangar.fs.FsException;
import io.hangar.fs.RenameFlags;
import io.hangar.fs.SetAttr;
import io.hangar.fs.StatFs;
import io.hangar.fs.XattrFlags;
import io.hangar.spi.meta.MetaProblem;
import io.hangar.spi.meta.MetadataEngine;
import io.hangar.spi.meta.Slice;
import io.hangar.spi.meta.SliceRef;
import io.hangar.spi.meta.StoredSlice;
import io.hangar.spi.meta.VolumeFormat;
import io.hangar.metrics.EngineMeters;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;

/**
 * A {@link MetadataEngine} on Redis. Every mutation is one Lua script (atomic on the server, durable
 * once acknowledged when the server runs with {@code appendfsync always}); reads are single commands or
 * pipelines. The key schema is documented in {@code docs/meta-redis.md}.
 */
public final class RedisMetadataEngine implements MetadataEngine {
    /** Root directory mode at format: like JuiceFS, open to all; owners restrict it afterwards. */
    private static final int ROOT_MODE = 0777;
    private static final int MAX_SYMLINK = 4096;
    /** Stale sessions ended per script call: bounds how long one cleanup blocks the server. */
    private static final int SESSION_CLEAN_BATCH = 64;
    /** Key schema version in the settings: 2 added the per-file chunk index and the slice index. */
    static final String SCHEMA = "2";

    private final RedisBackend backend;
    private final String prefix;
    private final byte[] prefixBytes;
    private volatile VolumeFormat format;

    private RedisMetadataEngine(RedisBackend backend, String prefix) {
        this.backend = backend;
        this.prefix = prefix;
        this.prefixBytes = bytes(prefix);
    }

    /** Connects to the server named by a {@code redis}, {@code rediss}, {@code redis-sentinel} or {@code redis-cluster} URL. */
    public static RedisMetadataEngine open(URI url) throws FsException {
        return open(url, new EngineMeters(null, "redis"));
    }

    /** As {@link #open(URI)}, counting script reloads and server failures in {@code meters}. */
    static RedisMetadataEngine open(URI url, EngineMeters meters) throws FsException {
        RedisUrl parsed = RedisUrl.parse(url);
        return new RedisMetadataEngine(RedisBackend.connect(parsed, bytes(parsed.prefix() + "setting"), meters),
                parsed.prefix());
    }

    // ---- volume ----

    @Override
    public void format(VolumeFormat f) throws FsException {
        if (f.blockSize() <= 0 || f.chunkSize() <= 0 || f.chunkSize() % f.blockSize() != 0
                || f.capacityBytes() < 0 || f.inodeLimit() < 0 || f.uuid() == null || f.uuid().isEmpty()) {
            throw new FsException(Errno.EINVAL, "bad volume format " + f);
        }
        eval(LuaScript.FORMAT, nullToEmpty(f.name()), f.uuid(), nullToEmpty(f.storage()), f.blockSize(),
                f.chunkSize(), f.capacityBytes(), f.inodeLimit(), f.createdMs(), ROOT_MODE);
    }

    @Override
    public Optional<VolumeFormat> load() throws FsException {
        Map<String, String> s = backend.call(j -> j.hgetAll(prefix + "setting"));
        if (s.isEmpty()) {
            return Optional.empty();
        }
        if (!SCHEMA.equals(s.get("schema"))) {
            throw new FsException(Errno.EIO, "the volume at " + backend.url.describe() + " uses key schema "
                    + s.get("schema") + "; this Hangar reads schema " + SCHEMA + " (copy its files to a new volume)");
        }
        try {
            VolumeFormat f = new VolumeFormat(s.get("name"), s.get("uuid"), s.get("storage"),
                    Integer.parseInt(s.get("blockSize")), Integer.parseInt(s.get("chunkSize")),
                    Long.parseLong(s.get("capacityBytes")), Long.parseLong(s.get("inodeLimit")),
                    Long.parseLong(s.get("createdMs")));
            format = f;
            return Optional.of(f);
        } catch (RuntimeException e) {
            throw Codec.corrupt("bad volume settings " + s);
        }
    }

    private int chunkSize() throws FsException {
        VolumeFormat f = format;
        if (f == null) {
            f = load().orElseThrow(() -> new FsException(Errno.EIO, "the volume at "
                    + backend.url.describe() + " is not formatted"));
        }
        return f.chunkSize();
    }

    // ---- namespace ----

    @Override
    public Entry lookup(long parent, String name) throws FsException {
        checkName(name, true);
        List<?> r = (List<?>) eval(LuaScript.LOOKUP, parent, name);
        long ino = Long.parseLong(str(r.get(0)));
        return new Entry(parent, name, Codec.attr(ino, (List<?>) r.get(1)));
    }

    @Override
    public Attr getattr(long inode) throws FsException {
        Map<String, String> m = backend.call(j -> j.hgetAll(prefix + "i" + inode));
        return Codec.attr(inode, m);
    }

    @Override
    public Attr setattr(long inode, SetAttr change) throws FsException {
        if (change.size() != null) {
            throw new FsException(Errno.EINVAL, "setattr cannot change the size: use truncate");
        }
        long now = nowNs();
        List<Object> args = new ArrayList<>();
        args.add(inode);
        if (change.mode() != null) {
            args.addAll(List.of("mo", change.mode() & 07777));
        }
        if (change.uid() != null) {
            args.addAll(List.of("u", change.uid()));
        }
        if (change.gid() != null) {
            args.addAll(List.of("g", change.gid()));
        }
        if (change.atimeNs() != null) {
            args.addAll(List.of("at", time(change.atimeNs(), now)));
        }
        if (change.mtimeNs() != null) {
            args.addAll(List.of("mt", time(change.mtimeNs(), now)));
        }
        args.addAll(List.of("ct", change.ctimeNs() == null ? now : time(change.ctimeNs(), now)));
        return Codec.attr(inode, (List<?>) evalAt(now, LuaScript.SETATTR, args.toArray()));
    }

    @Override
    public Entry mknod(long parent, String name, FileType type, int mode, int uid, int gid, int rdev, String target)
            throws FsException {
        checkName(name, false);
        if (type == null) {
            throw new FsException(Errno.EINVAL, "no file type");
        }
        long length = 0;
        if (type == FileType.SYMLINK) {
            if (target == null || target.isEmpty()) {
                throw new FsException(Errno.ENOENT, "empty symlink target");
            }
            length = bytes(target).length;
            if (length > MAX_SYMLINK) {
                throw new FsException(Errno.ENAMETOOLONG, "symlink target longer than " + MAX_SYMLINK + " bytes");
            }
        }
        long now = nowNs();
        long ino = Long.parseLong(str(evalAt(now, LuaScript.MKNOD, parent, name, Codec.typeChar(type),
                mode & 07777, uid, gid, rdev, type == FileType.SYMLINK ? target : "")));
        return new Entry(parent, name, new Attr(ino, type, mode & 07777, uid, gid,
                type == FileType.DIRECTORY ? 2 : 1, length, now, now, now, rdev, parent));
    }

    @Override
    public void unlink(long parent, String name) throws FsException {
        checkName(name, true);
        if (isDots(name)) {
            throw new FsException(Errno.EISDIR, "cannot unlink " + name);
        }
        eval(LuaScript.UNLINK, parent, name);
    }

    @Override
    public void rmdir(long parent, String name) throws FsException {
        checkName(name, true);
        if (isDots(name)) {
            if (parent == ROOT) {
                throw new FsException(Errno.EBUSY, "cannot remove the root directory");
            }
            throw new FsException(name.equals(".") ? Errno.EINVAL : Errno.ENOTEMPTY, "cannot remove " + name);
        }
        eval(LuaScript.RMDIR, parent, name);
    }

    @Override
    public void rename(long srcParent, String srcName, long dstParent, String dstName, int flags)
            throws FsException {
        // The order of renameat2(2): the flags first, then the names ("." and ".." are never renamed).
        if ((flags & ~(RenameFlags.NOREPLACE | RenameFlags.EXCHANGE)) != 0
                || flags == (RenameFlags.NOREPLACE | RenameFlags.EXCHANGE)) {
            throw new FsException(Errno.EINVAL, "bad rename flags " + flags);
        }
        checkName(srcName, true);
        checkName(dstName, true);
        if (isDots(srcName)) {
            throw new FsException(Errno.EBUSY, "cannot rename '" + srcName + "'");
        }
        if (isDots(dstName)) {
            throw new FsException((flags & RenameFlags.NOREPLACE) != 0 ? Errno.EEXIST : Errno.EBUSY,
                    "cannot rename onto '" + dstName + "'");
        }
        eval(LuaScript.RENAME, srcParent, srcName, dstParent, dstName, flags);
    }

    @Override
    public Entry link(long inode, long newParent, String newName) throws FsException {
        checkName(newName, false);
        return new Entry(newParent, newName, Codec.attr(inode,
                (List<?>) eval(LuaScript.LINK, inode, newParent, newName, MAX_LINKS)));
    }

    @Override
    public String readlink(long inode) throws FsException {
        return str(eval(LuaScript.READLINK, inode));
    }

    @Override
    public List<DirEntry> readdir(long inode, String after, int limit, boolean withAttributes) throws FsException {
        if (limit <= 0) {
            throw new FsException(Errno.EINVAL, "readdir limit must be positive");
        }
        byte[] dirKey = bytes(prefix + "d" + inode);
        // Members are "name NUL type ino": "(after \1" starts just past every member of the name `after`.
        byte[] min = after == null ? bytes("-") : concat(bytes("(" + after), new byte[] {1});
        // One round trip for both: the directory's type (to tell ENOENT and ENOTDIR from an empty listing)
        // and the page of members.
        Page page = backend.call(j -> {
            try (AbstractPipeline p = j.pipelined()) {
                Response<String> type = p.hget(prefix + "i" + inode, "t");
                Response<List<byte[]>> m = p.zrangeByLex(dirKey, min, bytes("+"), 0, limit);
                p.sync();
                return new Page(type.get(), m.get());
            }
        });
        if (page.type() == null) {
            throw new FsException(Errno.ENOENT, "no inode " + inode);
        }
        if (!page.type().equals("d")) {
            throw new FsException(Errno.ENOTDIR, "inode " + inode + " is not a directory");
        }
        List<byte[]> members = page.members();
        List<DirEntry> out = new ArrayList<>(members.size());
        for (byte[] m : members) {
            int z = Codec.nameEnd(m);
            String name = new String(m, 0, z, StandardCharsets.UTF_8);
            FileType type = Codec.type((char) m[z + 1]);
            long ino = Long.parseLong(new String(m, z + 2, m.length - z - 2, StandardCharsets.US_ASCII));
            out.add(new DirEntry(name, ino, type, null));
        }
        if (!withAttributes || out.isEmpty()) {
            return out;
        }
        List<Map<String, String>> attrs = backend.call(j -> {
            try (AbstractPipeline p = j.pipelined()) {
                List<Response<Map<String, String>>> rs = new ArrayList<>(out.size());
                for (DirEntry e : out) {
                    rs.add(p.hgetAll(prefix + "i" + e.inode()));
                }
                p.sync();
                List<Map<String, String>> l = new ArrayList<>(rs.size());
                for (Response<Map<String, String>> r : rs) {
                    l.add(r.get());
                }
                return l;
            }
        });
        List<DirEntry> full = new ArrayList<>(out.size());
        for (int i = 0; i < out.size(); i++) {
            DirEntry e = out.get(i);
            // An entry removed between the two round trips is left out, as if listed a moment later.
            if (!attrs.get(i).isEmpty()) {
                full.add(new DirEntry(e.name(), e.inode(), e.type(), Codec.attr(e.inode(), attrs.get(i))));
            }
        }
        return full;
    }

    private record Page(String type, List<byte[]> members) {
    }

    // ---- extended attributes ----

    @Override
    public byte[] getxattr(long inode, String name) throws FsException {
        checkXattrName(name);
        return (byte[]) eval(LuaScript.GETXATTR, inode, name);
    }

    @Override
    public void setxattr(long inode, String name, byte[] value, int flags) throws FsException {
        // The order of setxattr(2): flags, name, value.
        boolean keepCtime = (flags & XattrFlags.KEEP_CTIME) != 0;
        int mode = flags & ~XattrFlags.KEEP_CTIME;
        if ((mode & ~(XattrFlags.CREATE | XattrFlags.REPLACE)) != 0
                || mode == (XattrFlags.CREATE | XattrFlags.REPLACE)) {
            throw new FsException(Errno.EINVAL, "bad setxattr flags " + flags);
        }
        checkXattrName(name);
        if (value == null) {
            throw new FsException(Errno.EINVAL, "no xattr value");
        }
        if (value.length > MAX_XATTR_VALUE) {
            throw new FsException(Errno.E2BIG, "xattr value larger than " + MAX_XATTR_VALUE + " bytes");
        }
        eval(LuaScript.SETXATTR, inode, name, value, mode, keepCtime ? 1 : 0);
    }

    @Override
    public List<String> listxattr(long inode) throws FsException {
        List<?> names = (List<?>) eval(LuaScript.LISTXATTR, inode);
        List<String> out = new ArrayList<>(names.size());
        for (Object n : names) {
            out.add(str(n));
        }
        return out;
    }

    @Override
    public void removexattr(long inode, String name) throws FsException {
        checkXattrName(name);
        eval(LuaScript.REMOVEXATTR, inode, name);
    }

    @Override
    public StatFs statfs() throws FsException {
        List<?> r = (List<?>) eval(LuaScript.STATFS);
        return new StatFs(Long.parseLong(str(r.get(0))), Long.parseLong(str(r.get(1))), Long.parseLong(str(r.get(2))),
                Long.parseLong(str(r.get(3))));
    }

    // ---- file layout ----

    @Override
    public long newSliceIds(int count) throws FsException {
        if (count <= 0) {
            throw new FsException(Errno.EINVAL, "slice id count must be positive");
        }
        long last = backend.call(j -> j.incrBy(prefix + "nextSlice", count));
        return last - count + 1;
    }

    @Override
    public List<Slice> readChunk(long inode, int chunkIndex) throws FsException {
        List<byte[]> recs = backend.call(j -> j.lrange(chunkKey(inode, chunkIndex), 0, -1));
        List<Slice> out = new ArrayList<>(recs.size());
        for (byte[] r : recs) {
            out.add(Codec.slice(r));
        }
        return out;
    }

    @Override
    public void writeSlice(long inode, int chunkIndex, Slice slice, long mtimeNs) throws FsException {
        checkSlice(chunkIndex, slice);
        eval(LuaScript.WRITE_SLICE, inode, chunkIndex, Codec.slice(slice), slice.end(), mtimeNs);
    }

    @Override
    public Attr truncate(long inode, long length) throws FsException {
        if (length < 0) {
            throw new FsException(Errno.EINVAL, "negative length " + length);
        }
        if (length > MAX_FILE_SIZE) {
            throw new FsException(Errno.EFBIG, "length " + length + " exceeds the largest file (" + MAX_FILE_SIZE + ")");
        }
        return Codec.attr(inode, (List<?>) eval(LuaScript.TRUNCATE, inode, length));
    }

    @Override
    public boolean compactChunk(long inode, int chunkIndex, List<Slice> expected, List<Slice> replacement)
            throws FsException {
        for (Slice s : replacement) {
            checkSlice(chunkIndex, s);
        }
        return ((Long) eval(LuaScript.COMPACT_CHUNK, inode, chunkIndex, expected.size(), Codec.slices(expected),
                Codec.slices(replacement))) == 1L;
    }

    @Override
    public long copyRange(long srcInode, long srcOff, long dstInode, long dstOff, long len, long mtimeNs)
            throws FsException {
        if (srcOff < 0 || dstOff < 0 || len < 0) {
            throw new FsException(Errno.EINVAL, "copy range " + srcOff + " -> " + dstOff + " of " + len + " bytes");
        }
        // Lua counts in doubles: every number it gets is at most 2^50 + 1, exact, and the answer unchanged (a
        // source offset or length past the largest file copies what an exact one would; a destination past it
        // is EFBIG either way).
        long cap = MAX_FILE_SIZE + 1;
        return (Long) eval(LuaScript.COPY_RANGE, srcInode, Math.min(srcOff, cap), dstInode, Math.min(dstOff, cap),
                Math.min(len, cap), mtimeNs);
    }

    @Override
    public Entry clone(long srcInode, long dstParent, String dstName, int uid, int gid) throws FsException {
        checkName(dstName, false);
        List<?> r = (List<?>) eval(LuaScript.CLONE, srcInode, dstParent, dstName, uid, gid);
        long ino = Long.parseLong(str(r.get(0)));
        return new Entry(dstParent, dstName, Codec.attr(ino, (List<?>) r.get(1)));
    }

    @Override
    public List<SliceRef> pendingSliceDeletes(int limit) throws FsException {
        if (limit <= 0) {
            return List.of();
        }
        List<String> fields = backend.call(j -> j.zrange(prefix + "delSlices", 0, limit - 1));
        List<SliceRef> out = new ArrayList<>(fields.size());
        for (String f : fields) {
            out.add(Codec.sliceRef(f));
        }
        return out;
    }

    @Override
    public void confirmSliceDeletes(List<SliceRef> done) throws FsException {
        if (done.isEmpty()) {
            return;
        }
        String[] fields = done.stream().map(Codec::sliceKey).toArray(String[]::new);
        backend.call(j -> {
            try (AbstractPipeline p = j.pipelined()) {
                p.zrem(prefix + "delSlices", fields);
                p.zrem(prefix + "slices", fields);
                p.sync();
            }
            return null;
        });
    }

    @Override
    public List<StoredSlice> scanSlices(long afterId, int limit) throws FsException {
        if (limit <= 0) {
            return List.of();
        }
        // Ids are below 2^53, so the sorted set's double scores hold them exactly.
        List<String> fields = backend.call(j -> j.zrangeByScore(prefix + "slices", "(" + afterId, "+inf", 0, limit));
        if (fields.isEmpty()) {
            return List.of();
        }
        List<String> refs = backend.call(j -> j.hmget(prefix + "sliceRef", fields.toArray(String[]::new)));
        List<StoredSlice> out = new ArrayList<>(fields.size());
        for (int i = 0; i < fields.size(); i++) {
            SliceRef r = Codec.sliceRef(fields.get(i));
            out.add(new StoredSlice(r.id(), r.size(), refs.get(i) == null ? 0 : Long.parseLong(refs.get(i))));
        }
        return out;
    }

    @Override
    public void check(boolean repair, Consumer<MetaProblem> report) throws FsException {
        new RedisCheck(backend, prefix, chunkSize(), repair, report).run();
    }

    // ---- sessions and open files ----

    @Override
    public long openSession(String info) throws FsException {
        return Long.parseLong(str(eval(LuaScript.SESSION_OPEN, info == null ? "" : info)));
    }

    @Override
    public void heartbeat(long session) throws FsException {
        eval(LuaScript.SESSION_HEARTBEAT, session);
    }

    @Override
    public List<io.hangar.spi.meta.SessionRecord> sessions(int limit) throws FsException {
        if (limit < 0) {
            throw new FsException(Errno.EINVAL, "negative session limit");
        }
        if (limit == 0) {
            return List.of();
        }
        // {sid, info, ms since heartbeat, ...}, most recent heartbeat first
        List<?> flat = (List<?>) eval(LuaScript.SESSION_LIST, limit);
        List<io.hangar.spi.meta.SessionRecord> out = new java.util.ArrayList<>(flat.size() / 3);
        for (int i = 0; i + 2 < flat.size(); i += 3) {
            out.add(new io.hangar.spi.meta.SessionRecord(Long.parseLong(str(flat.get(i))), str(flat.get(i + 1)),
                    Math.max(0, Long.parseLong(str(flat.get(i + 2))))));
        }
        return out;
    }

    @Override
    public boolean otherSessions(long session) throws FsException {
        return (Long) eval(LuaScript.SESSION_OTHERS, session) == 1L;
    }

    @Override
    public void closeSession(long session) throws FsException {
        eval(LuaScript.SESSION_CLOSE, session);
    }

    @Override
    public void open(long session, long inode) throws FsException {
        eval(LuaScript.FILE_OPEN, session, inode);
    }

    @Override
    public void release(long session, long inode) throws FsException {
        eval(LuaScript.FILE_RELEASE, session, inode);
    }

    @Override
    public int cleanStaleSessions(long timeoutMs) throws FsException {
        if (timeoutMs < 0) {
            throw new FsException(Errno.EINVAL, "negative session timeout");
        }
        int total = 0;
        long n;
        do {
            n = (Long) eval(LuaScript.SESSION_CLEAN, timeoutMs, SESSION_CLEAN_BATCH);
            total += (int) n;
        } while (n == SESSION_CLEAN_BATCH);
        return total;
    }

    @Override
    public void close() {
        backend.close();
    }

    @Override
    public String toString() {
        return "redis metadata at " + backend.url.describe() + (prefix.isEmpty() ? "" : " prefix " + prefix);
    }

    // ---- helpers ----

    private Object eval(LuaScript script, Object... args) throws FsException {
        return evalAt(nowNs(), script, args);
    }

    private Object evalAt(long now, LuaScript script, Object... args) throws FsException {
        List<byte[]> argv = new ArrayList<>(args.length + 2);
        argv.add(prefixBytes);
        argv.add(bytes(Long.toString(now)));
        for (Object a : args) {
            argv.add(a instanceof byte[] b ? b : bytes(String.valueOf(a)));
        }
        return backend.eval(script, argv);
    }

    private byte[] chunkKey(long inode, int chunkIndex) {
        return bytes(prefix + "c" + inode + "_" + chunkIndex);
    }

    private void checkSlice(int chunkIndex, Slice s) throws FsException {
        if (chunkIndex < 0 || s.pos() < 0 || s.len() <= 0 || s.off() < 0 || s.size() <= 0
                || (long) s.off() + s.len() > s.size() || s.id() < 0 || (long) s.end() > chunkSize()) {
            throw new FsException(Errno.EINVAL, "bad slice " + s + " for chunk " + chunkIndex);
        }
        if ((long) chunkIndex * chunkSize() + s.end() > MAX_FILE_SIZE) {
            throw new FsException(Errno.EFBIG, "slice " + s + " of chunk " + chunkIndex + " ends past the largest file");
        }
    }

    private static void checkName(String name, boolean dotsAllowed) throws FsException {
        if (name == null || name.isEmpty()) {
            throw new FsException(Errno.EINVAL, "empty name");
        }
        if (name.indexOf('/') >= 0 || name.indexOf('\0') >= 0) {
            throw new FsException(Errno.EINVAL, "name contains '/' or NUL: " + name);
        }
        if (bytes(name).length > MAX_NAME) {
            throw new FsException(Errno.ENAMETOOLONG, "name longer than " + MAX_NAME + " bytes");
        }
        if (!dotsAllowed && isDots(name)) {
            throw new FsException(Errno.EEXIST, "'" + name + "' always exists");
        }
    }

    private static boolean isDots(String name) {
        return name.equals(".") || name.equals("..");
    }

    /** As Linux: an empty name and one longer than {@link #MAX_XATTR_NAME} bytes are both ERANGE. */
    private static void checkXattrName(String name) throws FsException {
        if (name == null || name.isEmpty()) {
            throw new FsException(Errno.ERANGE, "empty xattr name");
        }
        if (bytes(name).length > MAX_XATTR_NAME) {
            throw new FsException(Errno.ERANGE, "xattr name longer than " + MAX_XATTR_NAME + " bytes");
        }
    }

    private static long time(long t, long now) {
        return t == SetAttr.NOW ? now : t;
    }

    private static long nowNs() {
        Instant i = Instant.now();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
